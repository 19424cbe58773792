// Command kompas runs Kompas: the web server and API (serve), schema
// migrations (migrate), account and token administration (user, token), the
// audit log's key, checkpoints and verification (audit keygen, checkpoint,
// verify) and its version.
//
// Every flag can also be set through an environment variable KOMPAS_<FLAG>
// (dashes become underscores), e.g. KOMPAS_DB or KOMPAS_ADDR.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"kompas/internal/app"
	"kompas/internal/demo"
	"kompas/internal/iati"
	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

// exitUsage is the exit code for a command used wrongly.
const exitUsage = 2

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, env *env) error
}

// env is what commands share: their streams, so tests can run them.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// usageError makes the command exit with code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

var commands []command

func init() {
	commands = []command{
		{"serve", "run the web server and API", cmdServe},
		{"migrate", "bring the database schema up to date and exit", cmdMigrate},
		{"user", "manage accounts: add, list, disable, enable, set-password", cmdUser},
		{"token", "manage API tokens: create, revoke", cmdToken},
		{"report", "write the GCM implementation review: --format html|md|pdf|docx --out FILE [--edition ID]", cmdReport},
		{"audit", "the audit log: verify [--checkpoint FILE --key FILE], keygen, checkpoint", cmdAudit},
		{"import", "import data: iati FILE… (IATI 2.03 activity files)", cmdImport},
		{"export", "export data: iati (the register as IATI 2.03 XML)", cmdExport},
		{"version", "print the version", cmdVersion},
		{"help", "show this help", cmdHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		// Used wrongly: the help goes to standard error with exit 2.
		_ = cmdHelp(ctx, nil, &env{stdin: e.stdin, stdout: e.stderr, stderr: e.stderr, getenv: e.getenv})
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		_ = cmdHelp(ctx, nil, e)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			// A command's --audit-key holds for that command only (tests run
			// many commands in one process).
			defer audit.Configure(nil)
			err := c.run(ctx, args[1:], e)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, flag.ErrHelp):
				return 0
			}
			fmt.Fprintln(e.stderr, "kompas "+c.name+": "+err.Error())
			var ue usageError
			var ve verifyFailed
			switch {
			case errors.As(err, &ue):
				return exitUsage
			case errors.As(err, &ve):
				return 1
			}
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "kompas: unknown command %q\n\n", args[0])
	_ = cmdHelp(ctx, nil, e)
	return exitUsage
}

func cmdHelp(_ context.Context, _ []string, e *env) error {
	w := e.stdout
	fmt.Fprintln(w, "Kompas: migration policy, programmes and services traced to the 23 GCM objectives.")
	fmt.Fprintln(w, "\nUsage: kompas <command> [flags]   (kompas <command> -h for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nEvery flag can be set as an environment variable KOMPAS_<FLAG>, e.g. KOMPAS_DB=postgres://…")
	return nil
}

// flags makes a flag set for a command; parse applies KOMPAS_* variables to
// flags not given on the command line.
func flags(name, usage string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("kompas "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: kompas %s\n\nFlags (each also KOMPAS_<FLAG>):\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string, e *env) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		key := "KOMPAS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := e.getenv(key); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = usageError{fmt.Sprintf("%s=%q: %v", key, v, serr)}
			}
		}
	})
	return err
}

// dbFlags are the flags every database command takes.
type dbFlags struct {
	db, data string
	auditKey string     // file of the private audit key, "" for none
	key      *audit.Key // loaded by open
}

func (d *dbFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&d.db, "db", "", "database URL: sqlite:PATH or postgres://… (default sqlite:<data>/kompas.db)")
	fs.StringVar(&d.data, "data", "data", "data folder for the embedded database and files")
	fs.StringVar(&d.auditKey, "audit-key", "", "private key file that signs the audit events written (kompas audit keygen); keep it outside the database")
}

// loadKey reads --audit-key, if given, and makes Append sign with it (the
// events a command writes must be signed like the server's, or audit
// verify reports them as forged).
func (d *dbFlags) loadKey() error {
	if d.auditKey == "" || d.key != nil {
		return nil
	}
	k, err := audit.LoadKey(d.auditKey)
	if err != nil {
		return err
	}
	d.key = k
	audit.Configure(k)
	return nil
}

func (d *dbFlags) open(ctx context.Context) (*store.DB, error) {
	if err := d.loadKey(); err != nil {
		return nil, err
	}
	u := d.db
	if u == "" {
		u = "sqlite:" + filepath.Join(d.data, "kompas.db")
	}
	db, err := store.Open(ctx, u)
	if err != nil {
		return nil, err
	}
	if _, err := app.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// services opens the database and builds every service on it through app,
// as serve does; the caller closes Services.DB.
func (d *dbFlags) services(ctx context.Context) (*app.Services, error) {
	db, err := d.open(ctx)
	if err != nil {
		return nil, err
	}
	s, err := app.Build(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func cmdServe(ctx context.Context, args []string, e *env) error {
	fs := flags("serve", "serve [--addr :8080] [--db URL] [--data DIR] [--demo] [--audit-key FILE] [--audit-checkpoints DIR]", e)
	var d dbFlags
	d.add(fs)
	addr := fs.String("addr", ":8080", "address to listen on")
	withDemo := fs.Bool("demo", false, "load the demo data set and accounts (needs KOMPAS_DEMO_PASSWORD)")
	secure := fs.Bool("secure-cookies", false, "mark cookies Secure (set when a TLS proxy is in front)")
	proxies := fs.String("trusted-proxies", "", "CIDRs of proxies whose X-Forwarded-For names the client, e.g. 10.0.0.0/8,127.0.0.1/32")
	var iatiMax sizeFlag
	fs.Var(&iatiMax, "iati-max-size", "largest IATI file an upload may be, e.g. 1GiB")
	iatiPublisher := fs.String("iati-publisher", "", "reporting-org reference of IATI exports (default XX-KOMPAS)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	auditDir := fs.String("audit-checkpoints", "", "folder to write every signed audit checkpoint to (checkpoint-<size>.txt and latest)")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	if *auditDir != "" && d.auditKey == "" {
		return usageError{"--audit-checkpoints needs --audit-key: checkpoints are signed with it"}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{"--log-level: " + err.Error()}
	}
	trusted, err := web.ParseTrustedProxies(*proxies)
	if err != nil {
		return usageError{"--trusted-proxies: " + err.Error()}
	}
	demoPassword := e.getenv("KOMPAS_DEMO_PASSWORD")
	if *withDemo && demoPassword == "" {
		return usageError{"--demo needs the demo accounts' password in KOMPAS_DEMO_PASSWORD (at least 12 characters), e.g. KOMPAS_DEMO_PASSWORD=change-me-please kompas serve --demo"}
	}
	if *withDemo && len(demoPassword) < auth.MinPasswordLength {
		return usageError{fmt.Sprintf("KOMPAS_DEMO_PASSWORD must be at least %d characters", auth.MinPasswordLength)}
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	// Before anything appends (the demo too), so every event is signed.
	if err := d.loadKey(); err != nil {
		return err
	}
	key := d.key
	if key == nil {
		log.Warn("no --audit-key: the audit log is not tamper-evident (whoever can write the database can cut, edit or add events unnoticed); create a key with kompas audit keygen")
	}
	db, err := d.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	log.Info("database ready", "db", db.String())
	if *withDemo {
		sum, err := demo.Load(ctx, db, demoPassword)
		if err != nil {
			return err
		}
		log.Info("demo data loaded", "organisations", sum.Organisations, "accounts", sum.Accounts, "initiatives", sum.Initiatives)
	}
	opts := app.Options{Secure: *secure, TrustedProxies: trusted, IATI: iati.Config{MaxBytes: iatiMax.n, Publisher: *iatiPublisher}}
	if key != nil {
		opts.Checkpointer = &audit.Checkpointer{DB: db, Key: key, Dir: *auditDir, Log: log}
		log.Info("audit log signed", "key", key.VerifierKey(), "checkpoints", *auditDir)
	}
	srv, err := app.NewServer(ctx, db, log, opts)
	if err != nil {
		return err
	}
	if opts.Checkpointer == nil {
		return srv.ListenAndServe(ctx, *addr, nil)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		opts.Checkpointer.Run(runCtx)
	}()
	err = srv.ListenAndServe(ctx, *addr, nil)
	stopRun()
	<-ran
	// A last checkpoint once nothing is served any more, covering the
	// final events.
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if cp, cerr := opts.Checkpointer.Checkpoint(final); cerr != nil {
		log.Error("final audit checkpoint failed", "err", cerr)
	} else {
		log.Info("final audit checkpoint", "size", cp.Size, "root", cp.Root.String())
	}
	return err
}

func cmdMigrate(ctx context.Context, args []string, e *env) error {
	fs := flags("migrate", "migrate [--db URL] [--data DIR]", e)
	var d dbFlags
	d.add(fs)
	if err := parse(fs, args, e); err != nil {
		return err
	}
	u := d.db
	if u == "" {
		u = "sqlite:" + filepath.Join(d.data, "kompas.db")
	}
	db, err := store.Open(ctx, u)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := app.Migrate(ctx, db)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "the schema is up to date")
	}
	for _, a := range applied {
		fmt.Fprintln(e.stdout, "applied", a)
	}
	return nil
}

// readPassword reads one line from stdin (for --password-stdin).
func readPassword(e *env) (string, error) {
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func cmdUser(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, "Usage: kompas user add|list|disable|enable|set-password [flags]   (kompas user add -h for flags)")
		if len(args) == 0 {
			return usageError{"a subcommand is needed"}
		}
		return flag.ErrHelp
	}
	sub, args := args[0], args[1:]
	fs := flags("user "+sub, "user "+sub+" [flags]", e)
	var d dbFlags
	d.add(fs)
	email := fs.String("email", "", "the account's e-mail address")
	var name, org, role, orgName, orgKind *string
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	switch sub {
	case "add":
		name = fs.String("name", "", "the person's name")
		org = fs.String("org", "", "organisation slug")
		role = fs.String("role", "", "role: "+roleList())
		orgName = fs.String("org-name", "", "create the organisation with this name if it does not exist")
		orgKind = fs.String("org-kind", "", "kind of a new organisation: "+strings.Join(auth.OrgKinds, ", "))
	case "list", "disable", "enable", "set-password":
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q (add, list, disable, enable, set-password)", sub)}
	}
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if sub != "list" && *email == "" {
		return usageError{"--email is required"}
	}
	services, err := d.services(ctx)
	if err != nil {
		return err
	}
	defer services.DB.Close()
	db, svc := services.DB, services.Accounts
	switch sub {
	case "add":
		if *org == "" || *role == "" || *name == "" {
			return usageError{"--name, --org and --role are required"}
		}
		if !*pwStdin {
			return usageError{"give the password on standard input with --password-stdin (it must not appear in the process list)"}
		}
		pw, err := readPassword(e)
		if err != nil {
			return err
		}
		if *orgName != "" || *orgKind != "" {
			err := db.Transact(ctx, func(tx *store.Tx) error {
				_, err := svc.EnsureOrg(ctx, tx, auth.Org{Slug: *org, Name: *orgName, Kind: *orgKind})
				return err
			})
			if err != nil {
				return err
			}
		}
		if _, err := svc.CreateUser(ctx, nil, auth.NewUser{Email: *email, Name: *name, Role: auth.Role(*role), OrgSlug: *org, Password: pw}); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "added", strings.ToLower(*email))
	case "list":
		users, err := svc.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tORGANISATION\tROLE\tSTATUS")
		for _, u := range users {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.OrgSlug, u.Role, status)
		}
		return tw.Flush()
	case "disable", "enable":
		if err := svc.SetDisabled(ctx, nil, *email, sub == "disable"); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%sd %s\n", sub, *email)
	case "set-password":
		if !*pwStdin {
			return usageError{"give the password on standard input with --password-stdin"}
		}
		pw, err := readPassword(e)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(ctx, nil, *email, pw); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "password set for", *email)
	}
	return nil
}

func roleList() string {
	var out []string
	for _, r := range auth.Roles {
		out = append(out, string(r.Role))
	}
	return strings.Join(out, ", ")
}

func cmdToken(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "revoke") {
		fmt.Fprintln(e.stderr, "Usage: kompas token create --email E [--name N] [--days D] | kompas token revoke --token T")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return usageError{"create or revoke is needed"}
	}
	sub, args := args[0], args[1:]
	fs := flags("token "+sub, "token "+sub+" [flags]", e)
	var d dbFlags
	d.add(fs)
	email := fs.String("email", "", "create: the account the token acts as")
	name := fs.String("name", "api", "create: a name to recognise the token by")
	days := fs.Int("days", 90, "create: days until the token expires")
	token := fs.String("token", "", "revoke: the token, or the 12-character id printed at creation")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	services, err := d.services(ctx)
	if err != nil {
		return err
	}
	defer services.DB.Close()
	svc := services.Accounts
	if sub == "create" {
		if *email == "" {
			return usageError{"--email is required"}
		}
		if *days <= 0 || *days > 3650 {
			return usageError{"--days must be 1 to 3650"}
		}
		t, err := svc.CreateToken(ctx, nil, *email, *name, time.Duration(*days)*24*time.Hour)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, t)
		fmt.Fprintln(e.stderr, "id:", auth.TokenID(t), "— keep the token secret; it is shown only once")
		return nil
	}
	if *token == "" {
		return usageError{"--token is required"}
	}
	if err := svc.RevokeToken(ctx, nil, *token); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "revoked")
	return nil
}

// verifyFailed makes audit verify exit 1.
type verifyFailed struct{ error }

const auditUsage = "Usage: kompas audit verify [--db URL] [--checkpoint FILE --key FILE]\n" +
	"       kompas audit keygen --out FILE [--name NAME]\n" +
	"       kompas audit checkpoint --audit-key FILE [--audit-checkpoints DIR] [--db URL]"

func cmdAudit(ctx context.Context, args []string, e *env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(e.stderr, auditUsage)
		if len(args) > 0 {
			return flag.ErrHelp
		}
		return usageError{"a subcommand is needed: verify, keygen or checkpoint"}
	}
	switch args[0] {
	case "verify":
		return cmdAuditVerify(ctx, args[1:], e)
	case "keygen":
		return cmdAuditKeygen(args[1:], e)
	case "checkpoint":
		return cmdAuditCheckpoint(ctx, args[1:], e)
	}
	fmt.Fprintln(e.stderr, auditUsage)
	return usageError{fmt.Sprintf("unknown subcommand %q (verify, keygen, checkpoint)", args[0])}
}

// cmdAuditVerify checks the chain, and with --key every signature and the
// checkpoints the log holds, and with --checkpoint that the database still
// holds every event that checkpoint covered, unchanged. It reads only.
func cmdAuditVerify(ctx context.Context, args []string, e *env) error {
	fs := flags("audit verify", "audit verify [--db URL] [--data DIR] [--checkpoint FILE --key FILE]", e)
	var d dbFlags
	d.add(fs)
	cpFile := fs.String("checkpoint", "", "a signed checkpoint kept outside the database (the other checkpoints in its folder narrow down what changed)")
	keyFile := fs.String("key", "", "the audit key: the verifier key (FILE.pub from keygen) or the private key (default: --audit-key)")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if *keyFile == "" {
		*keyFile = d.auditKey
	}
	if *cpFile != "" && *keyFile == "" {
		return usageError{"--checkpoint needs --key (the .pub verifier key is enough) to check the checkpoint's signature"}
	}
	var opts audit.CheckOptions
	if *keyFile != "" {
		v, err := audit.LoadVerifier(*keyFile)
		if err != nil {
			return err
		}
		opts.Verifier = v
	}
	if *cpFile != "" {
		b, err := os.ReadFile(*cpFile)
		if err != nil {
			return err
		}
		if opts.Checkpoint, err = audit.ParseCheckpoint(b, opts.Verifier); err != nil {
			return verifyFailed{fmt.Errorf("%s: %w", *cpFile, err)}
		}
		others, bad, err := audit.ReadCheckpoints(filepath.Dir(*cpFile), opts.Verifier)
		if err != nil {
			return err
		}
		for _, b := range bad {
			fmt.Fprintln(e.stderr, "note: ignored checkpoint", b)
		}
		opts.Others = others
	}
	u := d.db
	if u == "" {
		u = "sqlite:" + filepath.Join(d.data, "kompas.db")
	}
	db, err := store.Open(ctx, u)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := audit.Check(ctx, db, opts)
	if err != nil {
		return err
	}
	if err := r.Err(); err != nil {
		return verifyFailed{fmt.Errorf("%w\n(%d events checked, after %d good events)", err, r.Events, r.Intact)}
	}
	fmt.Fprintf(e.stdout, "audit chain intact: %d events\n", r.Events)
	if opts.Verifier == nil {
		fmt.Fprintln(e.stderr, "signatures and checkpoints not checked: give --key FILE.pub (and --checkpoint FILE)")
	} else if r.Signed == 0 {
		fmt.Fprintf(e.stdout, "signatures: none of the %d events is signed by %s\n", r.Events, opts.Verifier.Name())
	} else {
		fmt.Fprintf(e.stdout, "signatures: %d events signed by %s, every event from seq %d on\n", r.Signed, opts.Verifier.Name(), r.FirstSigned)
	}
	if r.Checkpoint != nil {
		fmt.Fprintf(e.stdout, "%d events, consistent with checkpoint of size %d\n", r.Events, r.Checkpoint.Size)
	}
	return nil
}

// cmdAuditKeygen writes a new audit key: FILE (private, 0600) and
// FILE.pub (the verifier key for witnesses). It never overwrites.
func cmdAuditKeygen(args []string, e *env) error {
	fs := flags("audit keygen", "audit keygen --out FILE [--name NAME]", e)
	out := fs.String("out", "", "file for the private key; the verifier key goes to FILE.pub")
	name := fs.String("name", "kompas-audit", "the key's name, part of every checkpoint (no spaces or +)")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out is required"}
	}
	private, public, err := audit.GenerateKey(*name)
	if err != nil {
		return usageError{"--name: " + err.Error()}
	}
	for _, f := range []string{*out, *out + ".pub"} {
		if _, err := os.Lstat(f); err == nil {
			return fmt.Errorf("%s exists; refusing to overwrite a key", f)
		}
	}
	if err := writeNew(*out, private+"\n", 0o600); err != nil {
		return err
	}
	if err := writeNew(*out+".pub", public+"\n", 0o644); err != nil {
		os.Remove(*out)
		return err
	}
	fmt.Fprintf(e.stdout, "private key: %s (serve --audit-key; keep it secret and outside the database)\nverifier key: %s.pub\n%s\n", *out, *out, public)
	return nil
}

// writeNew creates path with mode, failing if it exists.
func writeNew(path, data string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// cmdAuditCheckpoint signs a checkpoint now (if the log grew since the
// latest) and prints it, for operators and scripts.
func cmdAuditCheckpoint(ctx context.Context, args []string, e *env) error {
	fs := flags("audit checkpoint", "audit checkpoint --audit-key FILE [--audit-checkpoints DIR] [--db URL] [--data DIR]", e)
	var d dbFlags
	d.add(fs)
	dir := fs.String("audit-checkpoints", "", "folder to write the checkpoint to (checkpoint-<size>.txt and latest)")
	if err := parse(fs, args, e); err != nil {
		return err
	}
	if d.auditKey == "" {
		return usageError{"--audit-key is required"}
	}
	db, err := d.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	cp, err := (&audit.Checkpointer{DB: db, Key: d.key, Dir: *dir}).Checkpoint(ctx)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(cp.Note)
	return err
}

func cmdVersion(_ context.Context, _ []string, e *env) error {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
		fmt.Fprintf(e.stdout, "kompas %s (%s)\n", v, bi.GoVersion)
		return nil
	}
	fmt.Fprintln(e.stdout, "kompas", v)
	return nil
}
