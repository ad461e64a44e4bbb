// Golden outputs from real Go text/template + Sprig 3.2.3, as upstream renders spec.template.data
// (pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go: template.New(key).Funcs(sprigFuncMap).Parse,
// then Execute over a map[string]string of the decrypted items).
//
// Run from this directory:
//   TZ=UTC GO111MODULE=off GOPATH=/usr/share/gocode go run gen.go
// It reads every cases/*.json (a list of {name, template, data: {k: v}, data_b64: {k: base64}, item})
// and writes expected/<file>.json: {name, output_b64} or {name, error, phase: "parse"|"exec"} per case.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"text/template"

	"github.com/Masterminds/sprig"
)

type testCase struct {
	Name     string            `json:"name"`
	Template string            `json:"template"`
	Data     map[string]string `json:"data"`
	DataB64  map[string]string `json:"data_b64"`
	Item     string            `json:"item"`
}

type result struct {
	Name      string `json:"name"`
	Output    string `json:"output,omitempty"`
	OutputB64 string `json:"output_b64"`
	Error     string `json:"error,omitempty"`
	Phase     string `json:"phase,omitempty"`
}

func funcMap() template.FuncMap {
	m := sprig.GenericFuncMap()
	// As upstream: no access to the controller's environment or network.
	for _, k := range []string{"env", "expandenv", "getHostByName"} {
		delete(m, k)
	}
	return template.FuncMap(m)
}

func render(c testCase) (r result) {
	r.Name = c.Name
	data := map[string]string{}
	for k, v := range c.Data {
		data[k] = v
	}
	for k, v := range c.DataB64 {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			panic(fmt.Sprintf("%s: data_b64[%q]: %v", c.Name, k, err))
		}
		data[k] = string(b)
	}
	item := c.Item
	if item == "" {
		item = "item"
	}
	defer func() {
		if p := recover(); p != nil {
			r.Error = fmt.Sprint("panic: ", p)
			r.Phase = "exec"
		}
	}()
	t, err := template.New(item).Funcs(funcMap()).Parse(c.Template)
	if err != nil {
		r.Error, r.Phase = err.Error(), "parse"
		return
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		r.Error, r.Phase = err.Error(), "exec"
		return
	}
	r.OutputB64 = base64.StdEncoding.EncodeToString(out.Bytes())
	r.Output = out.String()
	return
}

func main() {
	files, err := filepath.Glob("cases/*.json")
	if err != nil {
		panic(err)
	}
	sort.Strings(files)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			panic(err)
		}
		var cases []testCase
		if err := json.Unmarshal(raw, &cases); err != nil {
			panic(fmt.Sprintf("%s: %v", f, err))
		}
		seen := map[string]bool{}
		results := make([]result, 0, len(cases))
		for _, c := range cases {
			if seen[c.Name] {
				panic(fmt.Sprintf("%s: duplicate case name %q", f, c.Name))
			}
			seen[c.Name] = true
			results = append(results, render(c))
		}
		out, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			panic(err)
		}
		dst := filepath.Join("expected", filepath.Base(f))
		if err := os.WriteFile(dst, append(out, '\n'), 0o644); err != nil {
			panic(err)
		}
		fmt.Printf("%s: %d cases\n", dst, len(results))
	}
}
