// Renders External Secrets Operator templates (template engine v2) the way ESO's controller
// does, for the example tests: Go's text/template with the sprig function map, option
// missingkey=error, the default {{ }} delimiters, and the fetched secret data as a
// map[string]string. ESO removes sprig's env, expandenv and getHostByName; so does this program.
// ESO's own additions (pkcs12*, filterPEM, jwk*, toYaml, fromYaml, rsaDecrypt, ...) are not
// here: the examples use none, and a template that calls one fails to parse ("function not
// defined") rather than rendering differently.
//
// Input (stdin, JSON): {"data": {key: value}, "templates": {"data": {...}, "labels": {...},
// "annotations": {...}}}. Each template is executed on its own under its key's name, in ESO's
// order: data, labels, annotations. Output (stdout, JSON): the rendered values, data as bytes
// (base64 in JSON, as Secret data is), labels and annotations as strings. An error stops the
// run with ESO's message on stderr and exit status 1.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"text/template"

	"github.com/Masterminds/sprig"
)

type request struct {
	Data      map[string]string            `json:"data"`
	Templates map[string]map[string]string `json:"templates"`
}

type rendered struct {
	Data        map[string][]byte `json:"data"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// ESO drops these from sprig's map: they read the controller's environment or the network.
var removed = []string{"env", "expandenv", "getHostByName"}

func functions() template.FuncMap {
	funcs := sprig.TxtFuncMap()
	for _, name := range removed {
		delete(funcs, name)
	}
	return funcs
}

func execute(key, text string, data map[string]string, funcs template.FuncMap) ([]byte, error) {
	parsed, err := template.New(key).Option("missingkey=error").Funcs(funcs).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("unable to parse template at key %s: %s", key, err)
	}
	var out bytes.Buffer
	if err := parsed.Execute(&out, data); err != nil {
		return nil, fmt.Errorf("unable to execute template at key %s: %s", key, err)
	}
	return out.Bytes(), nil
}

func renderAll(templates map[string]string, data map[string]string, funcs template.FuncMap) (map[string][]byte, error) {
	keys := make([]string, 0, len(templates))
	for key := range templates {
		keys = append(keys, key)
	}
	sort.Strings(keys) // a stable first error; ESO's map order is random
	result := make(map[string][]byte, len(keys))
	for _, key := range keys {
		value, err := execute(key, templates[key], data, funcs)
		if err != nil {
			return nil, err
		}
		result[key] = value
	}
	return result, nil
}

func asStrings(values map[string][]byte) map[string]string {
	result := make(map[string]string, len(values))
	for key, value := range values {
		result[key] = string(value)
	}
	return result
}

func run() error {
	var req request
	decoder := json.NewDecoder(os.Stdin)
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&req); err != nil {
		return fmt.Errorf("reading the request: %s", err)
	}
	for target := range req.Templates {
		if target != "data" && target != "labels" && target != "annotations" {
			return fmt.Errorf("unknown template target %q", target)
		}
	}
	funcs := functions()
	var out rendered
	var err error
	if out.Data, err = renderAll(req.Templates["data"], req.Data, funcs); err != nil {
		return err
	}
	labels, err := renderAll(req.Templates["labels"], req.Data, funcs)
	if err != nil {
		return err
	}
	annotations, err := renderAll(req.Templates["annotations"], req.Data, funcs)
	if err != nil {
		return err
	}
	out.Labels, out.Annotations = asStrings(labels), asStrings(annotations)
	return json.NewEncoder(os.Stdout).Encode(out)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
