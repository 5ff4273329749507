package purge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

const commandUsage = `usage: shoal purge [--admin URL] --token-file FILE [--soft] url|prefix|key|all [VALUE]

  shoal purge --token-file /etc/shoal/purge.token url http://www.example.com/a.css
  shoal purge --token-file /etc/shoal/purge.token key product-42 --soft
  shoal purge --token-file /etc/shoal/purge.token all

Exit status: 0 when every live member acknowledged the purge; 3 when the node applied it but
members listed in "missing" did not acknowledge within purge.timeout (they may still serve
purged objects until gossip catches them up: retry, or look at them); 1 for anything else
(a usage error, a bad token, a refusal, no answer: nothing was purged).
`

// ErrIncomplete is wrapped by Command's error when the node applied the purge but live
// members did not acknowledge it in time: the answer is printed, and those members are named.
var ErrIncomplete = errors.New("purge: not acknowledged by every live member")

// Command is `shoal purge`: it sends one purge to a node's admin API and prints the JSON
// answer to stdout. Flags may come before or after the kind and value; "--" ends the flags.
// A refusal by the server is returned as an error carrying its message; an answer naming
// missing members is printed and returned as an error wrapping ErrIncomplete.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, commandUsage)
		fs.PrintDefaults()
	}
	admin := fs.String("admin", "http://127.0.0.1:9090", "base URL of the node's admin listener")
	tokenFile := fs.String("token-file", "", "file holding the purge token (purge.token_file)")
	soft := fs.Bool("soft", false, "mark stale instead of removing")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")

	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	body, err := commandBody(positional, *soft)
	if err != nil {
		fs.Usage()
		return err
	}
	if *timeout <= 0 {
		return fmt.Errorf("purge: --timeout %v: must be above 0", *timeout)
	}
	if u, err := url.Parse(*admin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("purge: --admin %q: want the admin listener's URL, e.g. http://127.0.0.1:9090", *admin)
	}
	if *tokenFile == "" {
		return errors.New("purge: --token-file is required")
	}
	raw, err := conf.ReadFile(*tokenFile, conf.MaxSecretBytes, "a token file")
	if err != nil {
		return fmt.Errorf("purge: reading the token: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return fmt.Errorf("purge: %s is empty", *tokenFile)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	answer, err := postPurge(ctx, strings.TrimSuffix(*admin, "/")+"/purge", token, body)
	if err != nil {
		return err
	}
	if _, err := stdout.Write(answer); err != nil {
		return err
	}
	var resp Response
	if err := json.Unmarshal(answer, &resp); err != nil {
		return fmt.Errorf("purge: the answer is not a purge response: %w", err)
	}
	if len(resp.Missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrIncomplete, strings.Join(resp.Missing, ", "))
	}
	return nil
}

// parseInterleaved lets flags follow positional arguments, which the flag package alone
// stops at: it parses, takes one positional, and parses the rest again.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		// The flag package consumes a "--" before what it leaves; after it, all is positional.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func commandBody(positional []string, soft bool) (apiBody, error) {
	if len(positional) == 0 {
		return apiBody{}, errors.New("purge: missing kind: url, prefix, key or all")
	}
	kind, values := positional[0], positional[1:]
	b := apiBody{Soft: soft}
	if kind == string(KindAll) {
		if len(values) != 0 {
			return apiBody{}, fmt.Errorf("purge: all takes no value, got %q", values)
		}
		all := true
		b.All = &all
		return b, nil
	}
	switch len(values) {
	case 0:
		return apiBody{}, fmt.Errorf("purge: %s needs a value", kind)
	case 1:
	default:
		return apiBody{}, fmt.Errorf("purge: %s takes one value, got %q", kind, values)
	}
	v := values[0]
	switch Kind(kind) {
	case KindURL:
		b.URL = &v
	case KindPrefix:
		b.Prefix = &v
	case KindKey:
		b.Key = &v
	default:
		return apiBody{}, fmt.Errorf("purge: unknown kind %q (want url, prefix, key or all)", kind)
	}
	return b, nil
}

func postPurge(ctx context.Context, target, token string, body apiBody) ([]byte, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("purge: %w", err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, maxLogBytes))
	if err != nil {
		return nil, fmt.Errorf("purge: reading the answer: %w", err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, fmt.Errorf("purge: %s answered %s: %s", target, res.Status, errorMessage(answer))
	}
	return answer, nil
}
