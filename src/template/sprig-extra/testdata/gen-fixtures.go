// Fixtures from real Go + Sprig 3.2.3 for src/template/sprig-extra.test.ts: outputs that are
// random or time-dependent in Go (certificates, bcrypt, encryptAES), made once and kept, so the
// TS implementation can be checked against them (decrypt Go's ciphertexts, verify Go's bcrypt
// hashes, rebuild Go's certificates byte for byte from the same key, serial and time).
//
// Run from this directory:
//   GO111MODULE=off GOPATH=/usr/share/gocode go run gen-fixtures.go > go-fixtures.json
package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"text/template"

	"github.com/Masterminds/sprig"
)

func render(t string, data map[string]interface{}) string {
	tpl := template.Must(template.New("x").Funcs(sprig.GenericFuncMap()).Parse(t))
	var b bytes.Buffer
	if err := tpl.Execute(&b, data); err != nil {
		panic(err)
	}
	return b.String()
}

type certFixture struct {
	Template  string `json:"template"`
	Key       string `json:"key"`
	CAKey     string `json:"caKey,omitempty"`
	CACert    string `json:"caCert,omitempty"`
	Cert      string `json:"cert"`
	OutKey    string `json:"outKey"`
	NotBefore int64  `json:"notBefore"`
	Serial    string `json:"serial"`
}

func main() {
	out := map[string]interface{}{}
	out["aes"] = []map[string]string{
		{"key": "secretkey", "plain": "hello world", "crypt": render(`{{ encryptAES "secretkey" "hello world" }}`, nil)},
		{"key": "a-much-longer-password-than-thirty-two-bytes!", "plain": "exactly16bytes!!", "crypt": render(`{{ encryptAES "a-much-longer-password-than-thirty-two-bytes!" "exactly16bytes!!" }}`, nil)},
		{"key": "", "plain": "x", "crypt": render(`{{ encryptAES "" "x" }}`, nil)},
	}
	pw := []string{"password", "", "ünïcødé-and-a-password-longer-than-seventy-two-bytes-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
	var bc []map[string]string
	for _, p := range pw {
		bc = append(bc, map[string]string{"password": p, "hash": render(`{{ bcrypt .p }}`, map[string]interface{}{"p": p})})
	}
	out["bcrypt"] = bc
	keys := map[string]string{
		"rsa":     render(`{{ genPrivateKey "ecdsa" | len }}`, nil),
		"ecdsa":   render(`{{ genPrivateKey "ecdsa" }}`, nil),
		"ed25519": render(`{{ genPrivateKey "ed25519" }}`, nil),
		"dsa":     render(`{{ genPrivateKey "dsa" }}`, nil),
	}
	// A 2048-bit RSA key (genPrivateKey "rsa" is 4096: slow for a fixture) from genCA.
	keys["rsa"] = render(`{{ (genCA "k" 1).Key }}`, nil)
	out["keys"] = keys
	var certs []certFixture
	add := func(tmpl string, data map[string]interface{}) {
		s := render(`{{ $c := `+tmpl+` }}{{ $c.Cert }}|{{ $c.Key }}`, data)
		parts := bytes.SplitN([]byte(s), []byte("|"), 2)
		blk, _ := pem.Decode(parts[0])
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			panic(err)
		}
		f := certFixture{Template: tmpl, Key: data["key"].(string), Cert: string(parts[0]), OutKey: string(parts[1]), NotBefore: c.NotBefore.Unix(), Serial: c.SerialNumber.Text(16)}
		if ca, ok := data["ca"]; ok {
			f.CACert = ca.(map[string]string)["cert"]
			f.CAKey = ca.(map[string]string)["key"]
		}
		certs = append(certs, f)
	}
	for _, k := range []string{"rsa", "ecdsa", "ed25519"} {
		add(`genCAWithKey "my-ca" 365 .key`, map[string]interface{}{"key": keys[k]})
		add(`genSelfSignedCertWithKey "host.example" (list "10.0.0.1" "::1" "::ffff:192.168.1.2") (list "a.example" "b.example") 30 .key`, map[string]interface{}{"key": keys[k]})
		add(`genSelfSignedCertWithKey "" nil (list "only-san.example") 1 .key`, map[string]interface{}{"key": keys[k]})
	}
	// A signed certificate: the CA from genCAWithKey (RSA), the leaf key ed25519 and ecdsa.
	caOut := render(`{{ $c := genCAWithKey "sign-ca" 100 .key }}{{ $c.Cert }}|{{ $c.Key }}`, map[string]interface{}{"key": keys["rsa"]})
	caParts := bytes.SplitN([]byte(caOut), []byte("|"), 2)
	ca := map[string]string{"cert": string(caParts[0]), "key": string(caParts[1])}
	for _, k := range []string{"ed25519", "rsa"} {
		add(`genSignedCertWithKey "leaf.example" (list "127.0.0.1") (list "leaf.example") 10 (buildCustomCert (b64enc .ca.cert) (b64enc .ca.key)) .key`, map[string]interface{}{"key": keys[k], "ca": ca})
	}
	out["certs"] = certs
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
