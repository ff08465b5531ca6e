package config

// Load reads, validates and compiles the configuration file at path. On any
// problem it returns Errors, every one naming the file, the field and the reason.
func Load(path string) (*Config, error) { panic("TODO(config helper)") }

// Parse validates and compiles a configuration already read. name is used in
// errors and to pick the format (.json, .yaml/.yml; otherwise sniffed); dir
// resolves relative configFile paths.
func Parse(name string, data []byte) (*Config, error) { panic("TODO(config helper)") }

// ForOrigin returns the quick-mode configuration: one distribution (ID
// EQUICKSTART) whose default behaviour sends everything to the custom origin
// at rawURL (http:// or https://, optional port and path prefix) with the
// managed CachingOptimized cache policy, allow-all, all seven methods allowed.
func ForOrigin(rawURL string) (*Config, error) { panic("TODO(config helper)") }

// Error is one configuration problem.
type Error struct {
	File   string
	Field  string // e.g. DistributionConfig.CacheBehaviors.Items[2].PathPattern
	Reason string
}

func (e *Error) Error() string { return e.File + ": " + e.Field + ": " + e.Reason }

// Errors is every problem found in one configuration, in file order.
type Errors []*Error

func (es Errors) Error() string {
	s := ""
	for i, e := range es {
		if i > 0 {
			s += "\n"
		}
		s += e.Error()
	}
	return s
}
