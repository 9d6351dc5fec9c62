package hoststate

import "testing"

func TestLookupFollowsAncestors(t *testing.T) {
	s := New()
	if _, ok := s.Lookup("/a/b"); ok {
		t.Fatal("an empty prediction predicts something")
	}
	if s.Changed() != "" {
		t.Fatal("an empty prediction says the host changed")
	}
	s.Set("/a/b/c", Entry{Kind: File, Content: []byte("x")})
	s.Set("/a", Entry{Kind: Absent, Fresh: true})
	for _, p := range []string{"/a", "/a/b", "/a/b/c"} {
		if e, ok := s.Lookup(p); !ok || e.Kind != Absent {
			t.Errorf("%s after rm -rf /a: %+v %v, want absent", p, e, ok)
		}
	}
	s.Ensure("/a/b", false)
	if e, _ := s.Lookup("/a/b"); e.Kind != Dir || !e.Fresh {
		t.Errorf("/a/b after mkdir -p: %+v, want a fresh directory", e)
	}
	if e, ok := s.Lookup("/a/b/c"); !ok || e.Kind != Absent {
		t.Errorf("/a/b/c in a recreated folder: %+v %v, want absent (the old file went with rm -rf)", e, ok)
	}
	s.MarkUnknown("/u", "why")
	if e, _ := s.Lookup("/u/x/y"); e.Kind != Unknown || e.Because != "why" {
		t.Errorf("below an unknown path: %+v", e)
	}
	s.Set("/l", Entry{Kind: Link, LinkTo: "/t"})
	if e, _ := s.Lookup("/l/x"); e.Kind != Unknown {
		t.Errorf("below a predicted link: %+v, want unknown", e)
	}
	s.Set("/f", Entry{Kind: File})
	if e, _ := s.Lookup("/f/x"); e.Kind != Absent {
		t.Errorf("below a file: %+v, want absent", e)
	}
	if s.Changed() == "" {
		t.Error("predicted writes leave the host unchanged")
	}
}

func TestChattrKeepsPredictedContent(t *testing.T) {
	s := New()
	s.Set("/f", Entry{Kind: File, Content: []byte("x"), Mode: 0o644, HasMode: true})
	s.Chattr("/f", File, 0o600, true, "app", "")
	e, _ := s.Lookup("/f")
	if string(e.Content) != "x" || e.Mode != 0o600 || e.Owner != "app" || e.Backed {
		t.Errorf("chmod of a predicted file: %+v", e)
	}
	s.Chattr("/g", File, 0o600, true, "", "")
	if e, _ := s.Lookup("/g"); !e.Backed || e.Content != nil {
		t.Errorf("chmod of a host's file: %+v, want backed by the host", e)
	}
	s.Set("/d", Entry{Kind: Dir, Fresh: true})
	s.Set("/d/x", Entry{Kind: File})
	s.Chattr("/d", Dir, 0o700, true, "", "")
	if e, _ := s.Lookup("/d/x"); e.Kind != File {
		t.Error("chmod of a folder forgot what is predicted inside it")
	}
}

func TestFactsAndTouched(t *testing.T) {
	s := New()
	s.SetFact(Packages, "nginx", "installed")
	if v, ok := s.Fact(Packages, "nginx"); !ok || v != "installed" {
		t.Errorf("fact = %q %v", v, ok)
	}
	if s.Touched(Packages) != "" {
		t.Error("touched without Touch")
	}
	s.Touch(Packages, "first")
	s.Touch(Packages, "second")
	if s.Touched(Packages) != "first" {
		t.Errorf("touched = %q, want the first reason", s.Touched(Packages))
	}
}

func TestMaybeFolderIsShallow(t *testing.T) {
	s := New()
	s.Set("/m/x", Entry{Kind: File, Content: []byte("x")})
	s.MarkMaybeFolder("/m", "mkdir -p may create it")
	if e, _ := s.Lookup("/m"); e.Kind != Unknown {
		t.Errorf("/m = %+v, want unknown", e)
	}
	if e, _ := s.Lookup("/m/x"); e.Kind != File {
		t.Errorf("/m/x below a maybe-folder = %+v, want the predicted file", e)
	}
	if _, ok := s.Lookup("/m/y"); ok {
		t.Error("/m/y below a maybe-folder is predicted; want the host's answer")
	}
}

func TestMaybeFolderKeepsDeepUnknown(t *testing.T) {
	s := New()
	s.Set("/m/x", Entry{Kind: File})
	s.MarkUnknown("/m", "rm -rf may run")
	s.MarkMaybeFolder("/m", "mkdir -p may create it")
	if e, _ := s.Lookup("/m/x"); e.Kind != Unknown {
		t.Errorf("/m/x = %+v: a maybe-folder made what an unknown task may remove known again", e)
	}
}
