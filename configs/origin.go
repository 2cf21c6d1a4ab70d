package configs

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Origin is a web origin that may call the control endpoints from a
// browser (the dashboard on another port, the OctoPrint plugin's page):
// scheme://host[:port], exactly as browsers send it in the Origin header.
type Origin string

func (o Origin) check() error {
	s := string(o)
	if s == "*" {
		return errors.New(`"*" would let any web page change pipcam; list the origins, such as http://octopi.local`)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an origin: want scheme://host[:port], such as http://octopi.local or http://192.168.1.20:5000", s)
	}
	if canonical := u.Scheme + "://" + strings.ToLower(u.Host); s != canonical {
		return fmt.Errorf("%q: write it as browsers send it: %s (lower case, no path, no trailing slash)", s, canonical)
	}
	if u.Port() == "" && strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("%q has an empty port", s)
	}
	return nil
}

func (o *Origin) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	if err := Origin(s).check(); err != nil {
		return err
	}
	*o = Origin(s)
	return nil
}

// Allows reports whether origin (an Origin request header) is one of the
// listed ones.
func (h HTTP) Allows(origin string) bool {
	for _, o := range h.AllowedOrigins {
		if strings.EqualFold(string(o), origin) {
			return true
		}
	}
	return false
}

func (h HTTP) problems() []*FieldError {
	var errs []*FieldError
	for i, o := range h.AllowedOrigins {
		if err := o.check(); err != nil {
			errs = append(errs, &FieldError{Field: fmt.Sprintf("allowed_origins[%d]", i), Err: err})
		}
	}
	return errs
}
