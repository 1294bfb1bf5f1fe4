package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mitchellh/mapstructure"
)

// DecodeConfig reads one JSON config document. Unknown keys and values of
// the wrong type are errors (mapstructure with ErrorUnused, no weak typing),
// so the messages match Serf's word for word.
func DecodeConfig(r io.Reader) (*Config, error) {
	var raw interface{}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, err
	}
	var result Config
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:      &result,
		ErrorUnused: true,
	})
	if err != nil {
		return nil, err
	}
	if err := dec.Decode(raw); err != nil {
		return nil, err
	}
	durations := []struct {
		raw string
		dst *time.Duration
	}{
		{result.ReconnectIntervalRaw, &result.ReconnectInterval},
		{result.ReconnectTimeoutRaw, &result.ReconnectTimeout},
		{result.TombstoneTimeoutRaw, &result.TombstoneTimeout},
		{result.RejoinReapedIntervalRaw, &result.RejoinReapedInterval},
		{result.RetryIntervalRaw, &result.RetryInterval},
		{result.BroadcastTimeoutRaw, &result.BroadcastTimeout},
		{result.EventHandlerTimeoutRaw, &result.EventHandlerTimeout},
	}
	for _, d := range durations {
		if d.raw == "" {
			continue
		}
		v, err := time.ParseDuration(d.raw)
		if err != nil {
			return nil, err
		}
		*d.dst = v
	}
	return &result, nil
}

// ReadConfigPaths decodes the given files and directories in order and
// merges them into one Config (not including defaults). A directory
// contributes its regular *.json files in lexical order, not recursively.
func ReadConfigPaths(paths []string) (*Config, error) {
	result := new(Config)
	for _, path := range paths {
		fi, err := statOpen(path)
		if err != nil {
			return nil, fmt.Errorf("Error reading '%s': %s", path, err)
		}
		if !fi.IsDir() {
			c, err := decodeConfigFile(path)
			if err != nil {
				return nil, err
			}
			result = MergeConfig(result, c)
			continue
		}
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("Error reading '%s': %s", path, err)
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, name := range names {
			c, err := decodeConfigFile(filepath.Join(path, name))
			if err != nil {
				return nil, err
			}
			result = MergeConfig(result, c)
		}
	}
	return result, nil
}

// statOpen opens and stats path so that a missing path reports the "open"
// error text Serf prints.
func statOpen(path string) (os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

func decodeConfigFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("Error reading '%s': %s", path, err)
	}
	defer f.Close()
	c, err := DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("Error decoding '%s': %s", path, err)
	}
	return c, nil
}
