package app_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestNoPoolReadsInsideTransactions is a lint over every non-test package
// under internal/ and cmd/: code that holds a transaction (a function given a
// *store.Tx, or the closure passed to Transact) must not use a *store.DB,
// directly or through the functions it calls. On PostgreSQL the transaction
// already holds one pool connection; a read through the pool waits for
// another, and with as many concurrent transactions as connections every
// one of them waits for ever. On SQLite the read misses the transaction's
// own writes, and a nested Transact waits for the one writer connection.
func TestNoPoolReadsInsideTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the whole module")
	}
	violations := poolLint(t, filepath.Join("..", ".."), "./internal/...", "./cmd/...")
	for _, v := range violations {
		t.Error(v)
	}
}

// TestPoolLintFindsKnownCases feeds the lint a package (testdata/poollint)
// with one case of each kind it must catch, marked "// want NAME", and
// some it must let pass.
func TestPoolLintFindsKnownCases(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the store package")
	}
	dir := filepath.Join("testdata", "poollint")
	violations := poolLint(t, filepath.Join("..", ".."), "./internal/app/testdata/poollint")
	b, err := os.ReadFile(filepath.Join(dir, "fixture.go"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	want := map[string]bool{"direct": false, "passes": false, "transitive": false, "closure": false, "carried": false}
	lines := strings.Split(src, "\n")
	for _, v := range violations {
		found := false
		for name := range want {
			for i, l := range lines {
				if strings.Contains(l, "// want "+name) && strings.Contains(v, fmt.Sprintf("fixture.go:%d:", i+1)) {
					want[name], found = true, true
				}
			}
		}
		if !found {
			t.Errorf("unexpected finding: %s", v)
		}
	}
	for name, ok := range want {
		if !ok {
			t.Errorf("case %q not found; findings:\n%s", name, strings.Join(violations, "\n"))
		}
	}
}

const storePath = "kompas/internal/platform/store"

// isStorePtr reports whether t is *store.<name>.
func isStorePtr(t types.Type, name string) bool {
	p, ok := types.Unalias(t).(*types.Pointer)
	if !ok {
		return false
	}
	n, ok := types.Unalias(p.Elem()).(*types.Named)
	return ok && n.Obj().Name() == name && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == storePath
}

// takesTx reports whether a function of signature sig holds a transaction:
// it is given a *store.Tx, or it is a method of a type that carries one.
func takesTx(sig *types.Signature) bool {
	for v := range sig.Params().Variables() {
		if isStorePtr(v.Type(), "Tx") {
			return true
		}
	}
	if recv := sig.Recv(); recv != nil {
		t := types.Unalias(recv.Type())
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if st, ok := t.Underlying().(*types.Struct); ok {
			for f := range st.Fields() {
				if isStorePtr(f.Type(), "Tx") {
					return true
				}
			}
		}
	}
	return false
}

// site is one place in a function body: a use of the pool or a call.
type site struct {
	pos    token.Position
	inTx   bool   // a *store.Tx is in scope here
	what   string // for a pool use: what it does
	callee string // for a call: the callee's full name
}

type funcFacts struct {
	takesTx bool
	uses    []site // direct uses of a *store.DB
	calls   []site // static calls to functions of the module
}

type listedPackage struct {
	ImportPath, Dir, Export string
	GoFiles                 []string
	DepOnly                 bool
	Error                   *struct{ Err string }
}

// poolLint type-checks the packages that `go list args…` names in dir (the
// module root) and returns every pool use inside a transaction, as
// "file:line: …" sorted.
func poolLint(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-e", "-export", "-deps", "-json=ImportPath,Dir,Export,GoFiles,DepOnly,Error"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	var targets []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Error != nil {
			t.Fatalf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
		if !p.DepOnly {
			targets = append(targets, p)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	root, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	funcs := map[string]*funcFacts{}
	for _, p := range targets {
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{},
			Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-check %s: %v", p.ImportPath, err)
		}
		for _, f := range files {
			for _, d := range f.Decls {
				collect(fset, info, d, funcs)
			}
		}
	}
	return report(funcs, root)
}

// collect records the pool uses and calls of every function in decl.
func collect(fset *token.FileSet, info *types.Info, decl ast.Decl, funcs map[string]*funcFacts) {
	key := fmt.Sprintf("init@%s", fset.Position(decl.Pos()))
	facts := &funcFacts{}
	var body ast.Node = decl
	if fd, ok := decl.(*ast.FuncDecl); ok {
		if fd.Body == nil {
			return
		}
		obj := info.Defs[fd.Name].(*types.Func)
		key = obj.FullName()
		facts.takesTx = takesTx(obj.Signature())
		body = fd.Body
	}
	funcs[key] = facts
	// txDepth counts the enclosing function literals (and the declaration)
	// that take a *store.Tx; ast.Inspect calls visit(nil) on the way out.
	txDepth := 0
	if facts.takesTx {
		txDepth = 1
	}
	var stack []bool
	ast.Inspect(body, func(n ast.Node) bool {
		if n == nil {
			if stack[len(stack)-1] {
				txDepth--
			}
			stack = stack[:len(stack)-1]
			return true
		}
		opens := false
		if lit, ok := n.(*ast.FuncLit); ok {
			if sig, ok := info.TypeOf(lit).(*types.Signature); ok && takesTx(sig) {
				opens = true
				txDepth++
			}
		}
		stack = append(stack, opens)
		at := func(p token.Pos) site { return site{pos: fset.Position(p), inTx: txDepth > 0} }
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if sel := info.Selections[n]; sel != nil && sel.Kind() == types.MethodVal && isStorePtr(sel.Recv(), "DB") {
				s := at(n.Sel.Pos())
				s.what = "calls (*store.DB)." + n.Sel.Name
				facts.uses = append(facts.uses, s)
			}
		case *ast.CallExpr:
			callee := calleeOf(info, n.Fun)
			for _, a := range n.Args {
				if isStorePtr(info.TypeOf(a), "DB") {
					s := at(a.Pos())
					s.what = "passes a *store.DB to " + shortName(callee)
					facts.uses = append(facts.uses, s)
				}
			}
			if callee != "" {
				s := at(n.Lparen)
				s.callee = callee
				facts.calls = append(facts.calls, s)
			}
		}
		return true
	})
}

// calleeOf names the function or concrete method fun calls statically, or "".
func calleeOf(info *types.Info, fun ast.Expr) string {
	fun = ast.Unparen(fun)
	if ix, ok := fun.(*ast.IndexExpr); ok {
		fun = ix.X
	}
	var id *ast.Ident
	switch f := fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return ""
	}
	fn, ok := info.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil || !strings.HasPrefix(fn.Pkg().Path(), "kompas/") {
		return ""
	}
	return fn.Origin().FullName()
}

func shortName(full string) string {
	if full == "" {
		return "a call"
	}
	return strings.ReplaceAll(full, "kompas/internal/", "")
}

// report walks the call graph: a call inside a transaction to a function
// that uses the pool, itself or through what it calls, is a finding, as is a
// direct use. Callees that take a *store.Tx are not followed: they are
// checked as transactions of their own.
func report(funcs map[string]*funcFacts, root string) []string {
	memo := map[string][]string{}
	visiting := map[string]bool{}
	var reach func(key string) []string
	reach = func(key string) []string {
		if chain, ok := memo[key]; ok {
			return chain
		}
		f := funcs[key]
		if f == nil || f.takesTx || visiting[key] {
			return nil
		}
		visiting[key] = true
		defer delete(visiting, key)
		var chain []string
		if len(f.uses) > 0 {
			u := f.uses[0]
			chain = []string{fmt.Sprintf("%s %s (%s:%d)", shortName(key), u.what, filepath.Base(u.pos.Filename), u.pos.Line)}
		} else {
			for _, c := range f.calls {
				if sub := reach(c.callee); sub != nil {
					chain = append([]string{shortName(key)}, sub...)
					break
				}
			}
		}
		memo[key] = chain
		return chain
	}
	rel := func(p token.Position) string {
		if r, err := filepath.Rel(root, p.Filename); err == nil {
			return fmt.Sprintf("%s:%d", r, p.Line)
		}
		return fmt.Sprintf("%s:%d", p.Filename, p.Line)
	}
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, f := range funcs {
		for _, u := range f.uses {
			if u.inTx {
				add(fmt.Sprintf("%s: with a *store.Tx in scope, %s: read and write through the transaction", rel(u.pos), u.what))
			}
		}
		for _, c := range f.calls {
			if !c.inTx {
				continue
			}
			if chain := reach(c.callee); chain != nil {
				add(fmt.Sprintf("%s: with a *store.Tx in scope, calls %s, which uses the pool: %s",
					rel(c.pos), shortName(c.callee), strings.Join(chain, " → ")))
			}
		}
	}
	sort.Strings(out)
	return out
}
