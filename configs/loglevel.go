package configs

import (
	"log/slog"

	"go.yaml.in/yaml/v3"
)

// LogLevel is the least severe level that is logged.
type LogLevel string

const (
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

var logLevels = []LogLevel{LogDebug, LogInfo, LogWarn, LogError}

func (l LogLevel) String() string { return string(l) }

// Level maps to slog; anything unknown (never after Validate) is Info.
func (l LogLevel) Level() slog.Level {
	switch l {
	case LogDebug:
		return slog.LevelDebug
	case LogWarn:
		return slog.LevelWarn
	case LogError:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (l LogLevel) check() error { return checkEnum(l, "log level", logLevels) }

func (l *LogLevel) UnmarshalYAML(n *yaml.Node) error {
	v, err := decodeYAMLEnum(n, "log level", logLevels, false)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

func (l *LogLevel) UnmarshalJSON(data []byte) error {
	v, err := decodeJSONEnum(data, *l, "log level", logLevels)
	if err != nil {
		return err
	}
	*l = v
	return nil
}
