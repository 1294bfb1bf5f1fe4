package agent

import "fmt"

// Reload applies the part of a re-read configuration (SIGHUP) that can
// change while the agent runs: the log level of logs, the handler scripts
// and the tags. Whatever fails is reported in the returned errors (in the
// order the agent command prints them) and the rest still applies; a log
// level that cannot be set is replaced in conf by the one still in effect.
// Everything else in conf is left to the caller.
func (a *Agent) Reload(conf *Config, logs *LogSink) []error {
	var errs []error
	if err := logs.SetLevel(conf.LogLevel); err != nil {
		errs = append(errs, err)
		conf.LogLevel = logs.Level()
	}
	a.UpdateEventScripts(conf.EventScripts())
	// With a tags file and no tags configured, the tags live in the file
	// (configured tags are refused alongside one): re-applying the empty
	// configured set would wipe them.
	if conf.TagsFile != "" && len(conf.Tags) == 0 {
		return errs
	}
	if err := a.SetTags(conf.Tags); err != nil {
		errs = append(errs, fmt.Errorf("Failed to update tags: %v", err))
	}
	return errs
}
