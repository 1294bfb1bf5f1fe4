package agent

// MergeConfig returns a new Config: a with b laid over it. Strings, numbers
// and durations from b win when non-zero; booleans can only be switched on;
// tags are overlaid key by key; handler and join lists are concatenated.
// EnableCompression always comes from b (the command line decides it), and
// ValidateNodeNames / MsgpackUseNewTimeFormat keep a's value.
func MergeConfig(a, b *Config) *Config {
	r := *a

	set(&r.NodeName, b.NodeName)
	set(&r.Role, b.Role)
	set(&r.DisableCoordinates, b.DisableCoordinates)
	if b.Tags != nil {
		tags := make(map[string]string, len(a.Tags)+len(b.Tags))
		for k, v := range a.Tags {
			tags[k] = v
		}
		for k, v := range b.Tags {
			tags[k] = v
		}
		r.Tags = tags
	}
	set(&r.BindAddr, b.BindAddr)
	set(&r.AdvertiseAddr, b.AdvertiseAddr)
	set(&r.EncryptKey, b.EncryptKey)
	set(&r.LogLevel, b.LogLevel)
	if b.Protocol > 0 { // the flag's default is -1: only a real version counts
		r.Protocol = b.Protocol
	}
	set(&r.RPCAddr, b.RPCAddr)
	set(&r.RPCAuthKey, b.RPCAuthKey)
	set(&r.ReplayOnJoin, b.ReplayOnJoin)
	set(&r.Profile, b.Profile)
	set(&r.SnapshotPath, b.SnapshotPath)
	set(&r.LeaveOnTerm, b.LeaveOnTerm)
	set(&r.SkipLeaveOnInt, b.SkipLeaveOnInt)
	set(&r.Discover, b.Discover)
	set(&r.Interface, b.Interface)
	set(&r.MDNS.Interface, b.MDNS.Interface)
	set(&r.MDNS.DisableIPv4, b.MDNS.DisableIPv4)
	set(&r.MDNS.DisableIPv6, b.MDNS.DisableIPv6)
	set(&r.ReconnectInterval, b.ReconnectInterval)
	set(&r.ReconnectTimeout, b.ReconnectTimeout)
	set(&r.TombstoneTimeout, b.TombstoneTimeout)
	set(&r.RejoinReapedInterval, b.RejoinReapedInterval)
	set(&r.AddressBookSize, b.AddressBookSize)
	set(&r.DisableNameResolution, b.DisableNameResolution)
	set(&r.TagsFile, b.TagsFile)
	set(&r.KeyringFile, b.KeyringFile)
	set(&r.EnableSyslog, b.EnableSyslog)
	set(&r.RetryMaxAttempts, b.RetryMaxAttempts)
	set(&r.RetryInterval, b.RetryInterval)
	set(&r.RejoinAfterLeave, b.RejoinAfterLeave)
	set(&r.SyslogFacility, b.SyslogFacility)
	set(&r.StatsiteAddr, b.StatsiteAddr)
	set(&r.StatsdAddr, b.StatsdAddr)
	set(&r.QueryResponseSizeLimit, b.QueryResponseSizeLimit)
	set(&r.QuerySizeLimit, b.QuerySizeLimit)
	set(&r.UserEventSizeLimit, b.UserEventSizeLimit)
	set(&r.BroadcastTimeout, b.BroadcastTimeout)
	set(&r.MetricsAddr, b.MetricsAddr)
	set(&r.LogJSON, b.LogJSON)
	set(&r.DNSResolver, b.DNSResolver)
	set(&r.EventHandlerTimeout, b.EventHandlerTimeout)
	set(&r.MaxQueueDepth, b.MaxQueueDepth)
	set(&r.MinQueueDepth, b.MinQueueDepth)
	set(&r.QueueDepthWarning, b.QueueDepthWarning)
	set(&r.EventBuffer, b.EventBuffer)
	set(&r.QueryBuffer, b.QueryBuffer)
	r.EnableCompression = b.EnableCompression

	r.EventHandlers = concat(a.EventHandlers, b.EventHandlers)
	r.StartJoin = concat(a.StartJoin, b.StartJoin)
	r.RetryJoin = concat(a.RetryJoin, b.RetryJoin)
	return &r
}

// set overwrites *dst with v unless v is the zero value, so a later source
// only overrides what it actually sets (and a boolean can only be switched
// on, never off).
func set[T comparable](dst *T, v T) {
	var zero T
	if v != zero {
		*dst = v
	}
}

// concat returns a fresh slice so merged configs never share backing arrays.
func concat(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	return append(out, b...)
}
