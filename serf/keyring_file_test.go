package serf

import (
	"bytes"
	"strings"
	"testing"
)

func TestKeyringFileRoundTrip(t *testing.T) {
	keys := [][]byte{bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 32)}
	data, err := EncodeKeyringFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	want := "[\n  \"AQEBAQEBAQEBAQEBAQEBAQ==\",\n  \"AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\"\n]"
	if string(data) != want {
		t.Errorf("encoded\n%s\nwant\n%s", data, want)
	}
	got, err := DecodeKeyringFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got[0], keys[0]) || !bytes.Equal(got[1], keys[1]) {
		t.Errorf("decoded %x", got)
	}
}

func TestKeyringFileDecodeErrors(t *testing.T) {
	for in, prefix := range map[string]string{
		`{`:         "Failed to decode keyring file: ",
		`["%%%"]`:   "Failed to decode key from keyring: ",
		`[]`:        "Keyring file contains no keys",
		`null`:      "Keyring file contains no keys",
		`"notlist"`: "Failed to decode keyring file: ",
	} {
		_, err := DecodeKeyringFile([]byte(in))
		if err == nil || !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("%s: err %v, want prefix %q", in, err, prefix)
		}
	}
}
