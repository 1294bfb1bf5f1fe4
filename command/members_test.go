package command

import (
	"testing"
)

func TestMembersTextTrailingSpaces(t *testing.T) {
	out, err := formatOutput(memberList{Members: testMembers()}, "text")
	if err != nil {
		t.Fatal(err)
	}
	// A row with an empty last cell keeps its padding, except on the last
	// line, which the overall trim strips.
	want := "alpha  127.0.0.1:7946  alive    role=web\n" +
		"b      [::1]:7947      leaving  \n" +
		"gamma  127.0.0.1:7948  failed"
	if out != want {
		t.Fatalf("got\n%q\nwant\n%q", out, want)
	}

	out, err = formatOutput(memberList{detailed: true, Members: testMembers()}, "text")
	if err != nil {
		t.Fatal(err)
	}
	want = "alpha  127.0.0.1:7946  alive    role=web  Protocol Version: 5  Available Protocol Range: [2, 5]\n" +
		"b      [::1]:7947      leaving            Protocol Version: 4  Available Protocol Range: [2, 5]\n" +
		"gamma  127.0.0.1:7948  failed             Protocol Version: 5  Available Protocol Range: [2, 5]"
	if out != want {
		t.Fatalf("detailed: got\n%q\nwant\n%q", out, want)
	}

	if out, _ := formatOutput(memberList{}, "text"); out != "" {
		t.Fatalf("empty text listing: %q", out)
	}
}

func TestMembersJSON(t *testing.T) {
	out, err := formatOutput(memberList{detailed: true, Members: testMembers()[:1]}, "json")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "members": [
    {
      "name": "alpha",
      "addr": "127.0.0.1:7946",
      "port": 7946,
      "tags": {
        "role": "web"
      },
      "status": "alive",
      "protocol": {
        "max": 5,
        "min": 2,
        "version": 5
      }
    }
  ]
}`
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	if out, _ := formatOutput(memberList{}, "json"); out != "{\n  \"members\": null\n}" {
		t.Fatalf("empty json listing: %q", out)
	}
	if _, err := formatOutput(memberList{}, "xml"); err == nil || err.Error() != `Invalid output format "xml"` {
		t.Fatalf("bad format: %v", err)
	}
}
