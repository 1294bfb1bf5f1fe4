package agent

// MergeConfig returns a new Config: a with b laid over it. Strings, numbers
// and durations from b win when non-zero; booleans can only be switched on;
// tags are overlaid key by key; handler and join lists are concatenated.
// EnableCompression always comes from b (the command line decides it), and
// ValidateNodeNames / MsgpackUseNewTimeFormat keep a's value.
func MergeConfig(a, b *Config) *Config {
	r := *a

	str := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	num := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	on := func(dst *bool, v bool) {
		if v {
			*dst = true
		}
	}

	str(&r.NodeName, b.NodeName)
	str(&r.Role, b.Role)
	on(&r.DisableCoordinates, b.DisableCoordinates)
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
	str(&r.BindAddr, b.BindAddr)
	str(&r.AdvertiseAddr, b.AdvertiseAddr)
	str(&r.EncryptKey, b.EncryptKey)
	str(&r.LogLevel, b.LogLevel)
	if b.Protocol > 0 {
		r.Protocol = b.Protocol
	}
	str(&r.RPCAddr, b.RPCAddr)
	str(&r.RPCAuthKey, b.RPCAuthKey)
	on(&r.ReplayOnJoin, b.ReplayOnJoin)
	str(&r.Profile, b.Profile)
	str(&r.SnapshotPath, b.SnapshotPath)
	on(&r.LeaveOnTerm, b.LeaveOnTerm)
	on(&r.SkipLeaveOnInt, b.SkipLeaveOnInt)
	str(&r.Discover, b.Discover)
	str(&r.Interface, b.Interface)
	str(&r.MDNS.Interface, b.MDNS.Interface)
	on(&r.MDNS.DisableIPv4, b.MDNS.DisableIPv4)
	on(&r.MDNS.DisableIPv6, b.MDNS.DisableIPv6)
	if b.ReconnectInterval != 0 {
		r.ReconnectInterval = b.ReconnectInterval
	}
	if b.ReconnectTimeout != 0 {
		r.ReconnectTimeout = b.ReconnectTimeout
	}
	if b.TombstoneTimeout != 0 {
		r.TombstoneTimeout = b.TombstoneTimeout
	}
	on(&r.DisableNameResolution, b.DisableNameResolution)
	str(&r.TagsFile, b.TagsFile)
	str(&r.KeyringFile, b.KeyringFile)
	on(&r.EnableSyslog, b.EnableSyslog)
	num(&r.RetryMaxAttempts, b.RetryMaxAttempts)
	if b.RetryInterval != 0 {
		r.RetryInterval = b.RetryInterval
	}
	on(&r.RejoinAfterLeave, b.RejoinAfterLeave)
	str(&r.SyslogFacility, b.SyslogFacility)
	str(&r.StatsiteAddr, b.StatsiteAddr)
	str(&r.StatsdAddr, b.StatsdAddr)
	num(&r.QueryResponseSizeLimit, b.QueryResponseSizeLimit)
	num(&r.QuerySizeLimit, b.QuerySizeLimit)
	num(&r.UserEventSizeLimit, b.UserEventSizeLimit)
	if b.BroadcastTimeout != 0 {
		r.BroadcastTimeout = b.BroadcastTimeout
	}
	r.EnableCompression = b.EnableCompression

	r.EventHandlers = concat(a.EventHandlers, b.EventHandlers)
	r.StartJoin = concat(a.StartJoin, b.StartJoin)
	r.RetryJoin = concat(a.RetryJoin, b.RetryJoin)
	return &r
}

// concat returns a fresh slice so merged configs never share backing arrays.
func concat(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	return append(out, b...)
}
