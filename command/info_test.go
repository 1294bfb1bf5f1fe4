package command

import (
	"testing"
)

func TestInfoFormats(t *testing.T) {
	stats := statsView{
		"serf":           {"members": "2", "encrypted": "false"},
		"agent":          {"name": "alpha"},
		"event_handlers": {},
	}
	out, err := formatOutput(stats, "text")
	if err != nil {
		t.Fatal(err)
	}
	want := "agent:\n\tname = alpha\nevent_handlers:\nserf:\n\tencrypted = false\n\tmembers = 2"
	if out != want {
		t.Fatalf("text: got %q", out)
	}
	out, err = formatOutput(stats, "json")
	if err != nil {
		t.Fatal(err)
	}
	want = "{\n  \"agent\": {\n    \"name\": \"alpha\"\n  },\n  \"event_handlers\": {},\n" +
		"  \"serf\": {\n    \"encrypted\": \"false\",\n    \"members\": \"2\"\n  }\n}"
	if out != want {
		t.Fatalf("json: got %q", out)
	}
}
