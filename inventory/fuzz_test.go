package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedCorpus adds every testdata inventory of one format to f.
func seedCorpus(f *testing.F, yamlFormat bool) {
	for _, dir := range []string{testdataDir, corpusDir} {
		seedCorpusDir(f, dir, yamlFormat)
	}
}

func seedCorpusDir(f *testing.F, dir string, yamlFormat bool) {
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		if isYAMLName(path) == yamlFormat || (!yamlFormat && strings.HasSuffix(path, ".ini")) {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f.Add(data)
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

// checkParsed holds whatever parseBytes returns to its contract: an error
// that is an *Error or ErrorList, or an inventory whose helpers work.
func checkParsed(t *testing.T, inv *Inventory, err error) {
	if err != nil {
		if inv != nil {
			t.Fatal("inventory returned with an error")
		}
		switch err.(type) {
		case *Error, ErrorList:
		default:
			t.Fatalf("error of type %T: %v", err, err)
		}
		return
	}
	for _, h := range inv.Hosts {
		if h.Address == "" || len(h.Groups) == 0 || h.Groups[0] != "all" {
			t.Fatalf("host %+v incomplete", h)
		}
		inv.VarsFor(h, nil, nil)
	}
	for _, g := range inv.GroupOrder() {
		inv.HostsOf(g)
	}
	if len(inv.Hosts) == 0 {
		return // Ansible's formats may be empty
	}
	if _, err := inv.Select("all,!" + inv.Hosts[0].Name); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseYAML(f *testing.F) {
	seedCorpus(f, true)
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := parseBytes("fuzz.yml", data, true)
		checkParsed(t, inv, err)
	})
}

func FuzzParseINI(f *testing.F) {
	seedCorpus(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := parseBytes("fuzz.ini", data, false)
		checkParsed(t, inv, err)
	})
}
