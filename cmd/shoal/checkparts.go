package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge/tlscert"
	"github.com/shoal-cdn/shoal/gslb"
	"github.com/shoal-cdn/shoal/origin"
	"github.com/shoal-cdn/shoal/ring/vip"
)

// partProblems asks the components what conf cannot know (a pool's cookie and id rules, the
// DNS names of the zone, the VIP addresses' forms, whether the certificate pairs load) and returns each problem as conf's errors
// read: file, line, key. Without them `shoal check` said ok to a file `shoal run` refused.
// data is the file's text, for the lines.
func partProblems(cfg *conf.Config, path string, data []byte) conf.Errors {
	var errs conf.Errors
	add := func(prefix string, err error) {
		if err == nil {
			return
		}
		for _, msg := range strings.Split(err.Error(), "\n") {
			key, rest, ok := strings.Cut(msg, ": ")
			if !ok || strings.ContainsAny(key, " \"") {
				key, rest = "", msg
			}
			if key != "" && prefix != "" {
				key = prefix + "." + key
			} else if key == "" {
				key = prefix
			}
			errs = append(errs, &conf.Error{File: path, Line: conf.KeyLine(data, key), Key: key, Msg: rest})
		}
	}
	for _, name := range sortedPools(cfg) {
		err := origin.Validate(cfg.Origins[name])
		if err != nil {
			// "origin: pool "web": sticky.cookie: ..." names the key inside the pool.
			err = fmt.Errorf("%s", strings.TrimPrefix(err.Error(), fmt.Sprintf("origin: pool %q: ", name)))
		}
		add("origins."+name, err)
	}
	if cfg.GSLB.Listen != "" {
		add("", gslb.Validate(cfg.GSLB))
	}
	add("", vip.Validate(cfg.VIP))
	if len(cfg.TLS.Certificates) > 0 {
		// conf only stats the files; a pair that does not load failed listen.https at start.
		if _, err := tlscert.Load(cfg.TLS.Certificates); err != nil {
			key, msg := "tls.certificates", err.Error()
			if ce := (*conf.Error)(nil); errors.As(err, &ce) {
				key, msg = ce.Key, ce.Msg
			}
			errs = append(errs, &conf.Error{File: path, Line: conf.KeyLine(data, key), Key: key, Msg: msg})
		} else {
			for i, c := range cfg.TLS.Certificates {
				if msg := certDateProblem(c.Cert, time.Now()); msg != "" {
					key := fmt.Sprintf("tls.certificates[%d].cert", i)
					errs = append(errs, &conf.Error{File: path, Line: conf.KeyLine(data, key), Key: key, Msg: msg})
				}
			}
		}
	}
	return errs
}

// certDateProblem says why the leaf certificate in file is refused by clients at now
// (expired, or not valid yet), or "". Loading checked the pair; only the dates are new here.
func certDateProblem(file string, now time.Time) string {
	data, err := conf.ReadFile(file, conf.MaxCertBytes, "a certificate file")
	if err != nil {
		return ""
	}
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			return ""
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		leaf, err := x509.ParseCertificate(block.Bytes)
		switch {
		case err != nil:
			return ""
		case now.After(leaf.NotAfter):
			return fmt.Sprintf("%s expired on %s", file, leaf.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(leaf.NotBefore):
			return fmt.Sprintf("%s is not valid before %s", file, leaf.NotBefore.UTC().Format(time.RFC3339))
		}
		return ""
	}
}

func sortedPools(cfg *conf.Config) []string {
	names := make([]string, 0, len(cfg.Origins))
	for name := range cfg.Origins {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
