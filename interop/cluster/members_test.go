package cluster

import "testing"

func TestParseMembers(t *testing.T) {
	out := "alpha  127.0.0.1:7946  alive  role=web,dc=east  Protocol Version: 5  Available Protocol Range: [2, 5]\n" +
		"delta  127.0.0.1:7949  left                      Protocol Version: 5  Available Protocol Range: [2, 5]\n"
	ms := ParseMembers(out)
	if len(ms) != 2 {
		t.Fatalf("got %d members: %+v", len(ms), ms)
	}
	if ms[0].Name != "alpha" || ms[0].Addr != "127.0.0.1:7946" || ms[0].Status != "alive" ||
		ms[0].Tags["role"] != "web" || ms[0].Tags["dc"] != "east" || ms[0].Rest == "" {
		t.Errorf("row 0: %+v", ms[0])
	}
	if ms[1].Name != "delta" || ms[1].Status != "left" || len(ms[1].Tags) != 0 || ms[1].Rest == "" {
		t.Errorf("row 1: %+v", ms[1])
	}
}

func TestNormalizeMembersText(t *testing.T) {
	a := "beta   127.0.0.1:2  alive  role=db,dc=x\nalpha  127.0.0.1:1  alive  z=1,a=2,m=3\ngone   127.0.0.1:3  left   "
	b := "alpha  127.0.0.1:1  alive  m=3,z=1,a=2\ngone   127.0.0.1:3  left   \nbeta   127.0.0.1:2  alive  dc=x,role=db"
	if NormalizeMembersText(a) != NormalizeMembersText(b) {
		t.Errorf("not equal:\n%s\n---\n%s", NormalizeMembersText(a), NormalizeMembersText(b))
	}
	c := "alpha  127.0.0.1:1  alive  m=3,z=1,a=2\ngone   127.0.0.1:3  left\nbeta   127.0.0.1:2  alive  dc=x,role=db"
	if NormalizeMembersText(a) == NormalizeMembersText(c) {
		t.Errorf("trailing spaces must stay significant")
	}
}

func TestNormalizeMembersJSON(t *testing.T) {
	a := `{
  "members": [
    {
      "name": "b",
      "port": 2
    },
    {
      "name": "a",
      "port": 1
    }
  ]
}`
	want := `{
  "members": [
    {
      "name": "a",
      "port": 1
    },
    {
      "name": "b",
      "port": 2
    }
  ]
}`
	got, err := NormalizeMembersJSON(a)
	if err != nil || got != want {
		t.Errorf("got %v\n%s", err, got)
	}
	got, err = NormalizeMembersJSON(`{"members": null}`)
	if err != nil || got != `{"members": null}` {
		t.Errorf("null members: %v %s", err, got)
	}
}
