package yamlnode

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestHelpers(t *testing.T) {
	var doc yaml.Node
	src := "a: &x {k: v}\nb: *x\nc: [1]\nd: 3\ne: ~\nf: yes please\ng: true\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0]
	val := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		val[m.Content[i].Value] = m.Content[i+1]
	}
	if r := Resolve(val["b"]); r != val["a"] {
		t.Errorf("Resolve(*x) = %v, want the anchored mapping", r)
	}
	want := map[string]string{"a": "a mapping", "b": "a mapping", "c": "a list", "d": "a number", "e": "nothing (null)", "f": `"yes please"`, "g": "a boolean"}
	for k, w := range want {
		if got := KindName(Resolve(val[k])); got != w {
			t.Errorf("KindName(%s) = %s, want %s", k, got, w)
		}
	}
	if !IsNull(val["e"]) || !IsNull(nil) || IsNull(val["d"]) {
		t.Error("IsNull: want true for ~ and a missing node only")
	}
}
