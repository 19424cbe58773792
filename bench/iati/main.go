// Command iati benchmarks the IATI import: it writes a synthetic IATI 2.03
// file of realistic activities (2–5 KB each) to a temporary file, streaming,
// then measures
//
//   - raw: encoding/xml's Decoder.Token over the file, nothing else (the
//     floor any Go streaming import stands on);
//   - parse: Kompas's parser and mapping (the guard, DecodeElement per
//     activity, the classifier), no database;
//   - import: the whole import into a fresh SQLite (or -db PostgreSQL)
//     database, as `kompas import iati` runs it;
//
// reporting activities per second, the ratio to raw, and the largest
// resident set size (VmRSS sampled every 20 ms from /proc/self/status, and
// the kernel's high-water mark VmHWM).
//
//	go run ./bench/iati                 # 500 MiB on SQLite
//	go run ./bench/iati -size 50MiB
//	go run ./bench/iati -db 'postgres://…'
package main

import (
	"bufio"
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"kompas/internal/app"
	"kompas/internal/gcm"
	"kompas/internal/iati"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

func main() {
	sizeFlag := flag.String("size", "500MiB", "size of the generated file")
	dbURL := flag.String("db", "", "database (default: a fresh SQLite file in a temporary folder)")
	file := flag.String("file", "", "use this IATI file instead of generating one")
	keep := flag.Bool("keep", false, "keep the generated file and database")
	seed := flag.Uint64("seed", 1, "random seed of the generator")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the import phase to this file")
	flag.Parse()
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		loadavg = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	size, err := iati.ParseSize(*sizeFlag)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "kompas-bench-iati-")
	if err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	path := *file
	if path == "" {
		path = filepath.Join(dir, "activities.xml")
		start := time.Now()
		n, err := generate(path, size, *seed)
		if err != nil {
			log.Fatal(err)
		}
		st, _ := os.Stat(path)
		fmt.Printf("generated %s: %d activities, %s (%.0f bytes each on average) in %s\n", path, n, iati.FormatSize(st.Size()), float64(st.Size())/float64(n), time.Since(start).Round(time.Millisecond))
	}
	st, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}

	rawN, rawT := rawDecode(path)
	fmt.Printf("raw decode:   %7d activities in %8s = %7.0f activities/s (%.0f MB/s)\n", rawN, rawT.Round(time.Millisecond), float64(rawN)/rawT.Seconds(), float64(st.Size())/1e6/rawT.Seconds())
	parseN, parseT := parseOnly(path)
	fmt.Printf("parse + map:  %7d activities in %8s = %7.0f activities/s (%.2f × raw time)\n", parseN, parseT.Round(time.Millisecond), float64(parseN)/parseT.Seconds(), parseT.Seconds()/rawT.Seconds())

	u := *dbURL
	if u == "" {
		u = "sqlite:" + filepath.Join(dir, "kompas.db")
	}
	// As `kompas import iati` does.
	defer iati.TuneGC()()
	runtime.GC()
	rss := newSampler()
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			log.Fatal(err)
		}
	}
	cpu0 := cpuTime()
	res, impT, err := importFile(u, path, st.Size())
	cpu := cpuTime() - cpu0
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	maxRSS := rss.stop()
	if err != nil {
		log.Fatal(err)
	}
	rate := float64(res.Activities) / impT.Seconds()
	fmt.Printf("import:       %7d activities in %8s = %7.0f activities/s (%.2f × raw time); %d created, %d skipped; %d suggestions\n",
		res.Activities, impT.Round(time.Millisecond), rate, impT.Seconds()/rawT.Seconds(), res.Created, res.Skipped, res.Suggestions)
	fmt.Printf("CPU time of the import: %s (%.0f µs per activity, %.0f activities per CPU-second); load average before: %s\n",
		cpu.Round(time.Millisecond), float64(cpu.Microseconds())/float64(res.Activities), float64(res.Activities)/cpu.Seconds(), loadavg)
	fmt.Printf("max RSS during the import: %s (VmRSS sampled); process high-water mark VmHWM %s\n", iati.FormatSize(maxRSS), iati.FormatSize(procStatus("VmHWM")))
	fmt.Printf("targets: ≥ 2,000 activities/s: %v; RSS < 200 MB: %v\n", rate >= 2000, maxRSS < 200e6)
	fmt.Printf("engine: %s; Go %s; %d CPUs\n", strings.SplitN(u, ":", 2)[0], runtime.Version(), runtime.NumCPU())
}

var loadavg = "unknown"

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawDecode is the floor: encoding/xml tokens over the file.
func rawDecode(path string) (int, time.Duration) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	d := xml.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	n := 0
	for {
		t, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if se, ok := t.(xml.StartElement); ok && se.Name.Local == "iati-activity" {
			n++
		}
	}
	return n, time.Since(start)
}

func parseOnly(path string) (int, time.Duration) {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	n := 0
	p := iati.NewParser(iati.Options{MaxBytes: 1 << 40})
	err = p.Parse(bufio.NewReaderSize(f, 64<<10), func(a *iati.Activity) error {
		if _, err := iati.Map(a); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	return n, time.Since(start)
}

func importFile(u, path string, size int64) (*iati.Result, time.Duration, error) {
	ctx := context.Background()
	db, err := store.Open(ctx, u)
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	if _, err := app.Migrate(ctx, db); err != nil {
		return nil, 0, err
	}
	svc := &auth.Service{DB: db}
	if err := db.Transact(ctx, func(tx *store.Tx) error {
		_, err := svc.EnsureOrg(ctx, tx, auth.Org{Slug: "bench", Name: "Benchmark", Kind: "ministry"})
		return err
	}); err != nil {
		return nil, 0, err
	}
	o, err := svc.OrgBySlug(ctx, db, "bench")
	if err != nil {
		return nil, 0, err
	}
	p := &auth.Principal{Email: "bench@bench.example", Role: auth.RoleAdmin, OrgID: o.ID, OrgSlug: o.Slug}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	id, err := iati.CreateJob(ctx, db, p, "cli", filepath.Base(path), size, iati.JobRunning)
	if err != nil {
		return nil, 0, err
	}
	cat, err := gcm.Load(ctx, db)
	if err != nil {
		return nil, 0, err
	}
	im := &iati.Importer{DB: db, Reg: app.IATIRegister(&programmes.Register{DB: db, GCM: cat}), Orgs: &auth.Service{DB: db}, Config: iati.Config{MaxBytes: 1 << 40}}
	start := time.Now()
	res, err := im.Run(ctx, p, id, bufio.NewReaderSize(f, 64<<10), size)
	return res, time.Since(start), err
}

// sampler records the largest VmRSS until stopped.
type sampler struct {
	max  atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
}

func newSampler() *sampler {
	s := &sampler{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v := procStatus("VmRSS"); v > s.max.Load() {
				s.max.Store(v)
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	return s.max.Load()
}

// procStatus reads a "kB" field of /proc/self/status, in bytes.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// The generator.

// general is the language of development activities at large; migration
// words appear in about a third of the activities, as in published IATI
// data, where most activities are about something else.
var general = strings.Fields(`the of and to in for with on by from at as an a is are be this that which will through
support programme project development health education water sanitation agriculture food security nutrition
infrastructure governance capacity building training institutions local national regional communities women youth
children rural urban services access quality systems strengthening improved management public sector private
partnership partners government ministry districts provinces households livelihoods income markets value chains
climate resilience environment energy roads schools teachers clinics hospitals vaccination maternal care
technical assistance monitoring evaluation data results framework policy reform budget finance accountability
transparency civil society participation gender equality inclusion disability rights justice peace security
emergency response recovery reconstruction humanitarian assistance protection shelter cash transfers`)

var migration = strings.Fields(`migration migrants refugees asylum displaced returnees reintegration diaspora remittances
trafficking smuggling border labour recruitment mobility pathways integration`)

func sentence(r *rand.Rand, n int, migr bool) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		if migr && r.IntN(12) == 0 {
			b.WriteString(migration[r.IntN(len(migration))])
			continue
		}
		// Zipf-ish: most words from the head of the list.
		k := int(float64(len(general)) * r.Float64() * r.Float64())
		b.WriteString(general[k])
	}
	return b.String()
}

var countries = strings.Fields(`AF AL DZ AO AR AM AZ BD BJ BO BA BF BI KH CM CF TD CO CD CG CI CU DJ DO EC EG SV ER ET GM GH GT GN HT HN IN ID IR IQ JM JO KE LB LR LY MG MW ML MR MA MZ MM NP NI NE NG PK PS PE PH RW SN SL SO ZA SS LK SD SY TJ TZ TG TN TR UG UA VE VN YE ZM ZW`)

var (
	migrationSectors = []string{"15190", "15190", "15136", "72010", "72050", "15180", "16020", "13010", "24050", "11330"}
	otherSectors     = []string{"12220", "31120", "43010", "15110", "15160", "11220", "14030", "12240", "23230", "21020", "16010", "15150"}
)

type org struct{ ref, name, typ string }

func orgs(r *rand.Rand) []org {
	types := []string{"10", "21", "22", "40", "40", "80", "60", "70"}
	out := make([]org, 300)
	for i := range out {
		out[i] = org{ref: fmt.Sprintf("XM-DAC-%d-%d", 40000+i, i%7), name: fmt.Sprintf("%s %s Organisation %d", title(general[40+r.IntN(60)]), title(general[40+r.IntN(60)]), i), typ: types[r.IntN(len(types))]}
	}
	return out
}

func title(w string) string { return strings.ToUpper(w[:1]) + w[1:] }

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// generate writes activities until the file reaches size.
func generate(path string, size int64, seed uint64) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cw := &countWriter{w: bufio.NewWriterSize(f, 1<<20)}
	r := rand.New(rand.NewPCG(seed, 2))
	os := orgs(r)
	fmt.Fprintf(cw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\" generated-datetime=\"2025-01-01T00:00:00Z\">\n")
	n := 0
	for cw.n < size {
		writeActivity(cw, r, os, n)
		n++
	}
	fmt.Fprintf(cw, "</iati-activities>\n")
	if err := cw.w.(*bufio.Writer).Flush(); err != nil {
		return n, err
	}
	return n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func writeActivity(w io.Writer, r *rand.Rand, os []org, n int) {
	rep := os[r.IntN(len(os))]
	year := 2010 + r.IntN(14)
	migr := r.IntN(3) == 0
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p(" <iati-activity last-updated-datetime=\"2024-05-01T12:00:00Z\" xml:lang=\"en\" default-currency=\"%s\" hierarchy=\"1\">\n", []string{"USD", "EUR", "GBP"}[r.IntN(3)])
	p("  <iati-identifier>%s-BENCH-%08d</iati-identifier>\n", rep.ref, n)
	p("  <reporting-org ref=\"%s\" type=\"%s\"><narrative>%s</narrative></reporting-org>\n", rep.ref, rep.typ, esc(rep.name))
	p("  <title><narrative>%s</narrative><narrative xml:lang=\"fr\">%s</narrative></title>\n", esc(title(sentence(r, 6+r.IntN(8), migr))), esc(sentence(r, 8, false)))
	p("  <description type=\"1\"><narrative>%s.</narrative></description>\n", esc(title(sentence(r, 40+r.IntN(70), migr))))
	if r.IntN(2) == 0 {
		p("  <description type=\"2\"><narrative>%s.</narrative></description>\n", esc(title(sentence(r, 15+r.IntN(30), migr))))
	}
	roles := []int{1, 2, 4}
	if r.IntN(3) == 0 {
		roles = append(roles, 3)
	}
	for _, role := range roles {
		o := os[r.IntN(len(os))]
		p("  <participating-org ref=\"%s\" role=\"%d\" type=\"%s\"><narrative>%s</narrative></participating-org>\n", o.ref, role, o.typ, esc(o.name))
	}
	p("  <activity-status code=\"%d\"/>\n", 1+r.IntN(6))
	p("  <activity-date iso-date=\"%d-%02d-01\" type=\"1\"/>\n", year, 1+r.IntN(12))
	if r.IntN(2) == 0 {
		p("  <activity-date iso-date=\"%d-%02d-15\" type=\"2\"/>\n", year, 1+r.IntN(12))
	}
	p("  <activity-date iso-date=\"%d-12-31\" type=\"3\"/>\n", year+1+r.IntN(4))
	p("  <contact-info type=\"1\"><organisation><narrative>%s</narrative></organisation><email>info@example.org</email></contact-info>\n", esc(rep.name))
	for i := 0; i < 1+r.IntN(3); i++ {
		p("  <recipient-country code=\"%s\" percentage=\"%d\"/>\n", countries[r.IntN(len(countries))], 10+r.IntN(50))
	}
	if r.IntN(3) == 0 {
		p("  <recipient-region code=\"%s\" vocabulary=\"1\"/>\n", []string{"289", "189", "589", "679", "1027", "1030"}[r.IntN(6)])
	}
	p("  <location><name><narrative>%s</narrative></name><point srsName=\"http://www.opengis.net/def/crs/EPSG/0/4326\"><pos>%.4f %.4f</pos></point></location>\n", esc(title(sentence(r, 2, false))), r.Float64()*60-30, r.Float64()*120-20)
	for i := 0; i < 1+r.IntN(3); i++ {
		codes := otherSectors
		if migr && i == 0 {
			codes = migrationSectors
		}
		p("  <sector vocabulary=\"1\" code=\"%s\" percentage=\"%d\"/>\n", codes[r.IntN(len(codes))], 10+r.IntN(80))
	}
	p("  <policy-marker vocabulary=\"1\" code=\"1\" significance=\"%d\"/>\n", r.IntN(3))
	p("  <default-flow-type code=\"10\"/><default-finance-type code=\"110\"/><default-aid-type code=\"C01\" vocabulary=\"1\"/><default-tied-status code=\"5\"/>\n")
	for i := 0; i < 1+r.IntN(3); i++ {
		y := year + i
		p("  <budget type=\"1\" status=\"2\"><period-start iso-date=\"%d-01-01\"/><period-end iso-date=\"%d-12-31\"/><value value-date=\"%d-01-01\">%d.%02d</value></budget>\n", y, y, y, 10000+r.IntN(5_000_000), r.IntN(100))
	}
	for i := 0; i < 2+r.IntN(7); i++ {
		o := os[r.IntN(len(os))]
		p("  <transaction><transaction-type code=\"%d\"/><transaction-date iso-date=\"%d-%02d-%02d\"/><value value-date=\"%d-01-01\">%d.%02d</value><description><narrative>%s</narrative></description><receiver-org ref=\"%s\"><narrative>%s</narrative></receiver-org></transaction>\n",
			[]int{2, 3, 3, 4, 11}[r.IntN(5)], year+r.IntN(3), 1+r.IntN(12), 1+r.IntN(28), year, 1000+r.IntN(900_000), r.IntN(100), esc(sentence(r, 5, false)), o.ref, esc(o.name))
	}
	if r.IntN(2) == 0 {
		p("  <document-link format=\"application/pdf\" url=\"https://example.org/docs/%d.pdf\"><title><narrative>%s</narrative></title><category code=\"A02\"/></document-link>\n", n, esc(title(sentence(r, 5, false))))
	}
	p(" </iati-activity>\n")
}
