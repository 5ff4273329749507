package main

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/shoal-cdn/shoal/conf"
)

// listenProblems names every listen address that is not an address of this machine, as
// `shoal run` refuses it at start (bind: cannot assign requested address): conf checks only
// the form, so `shoal check` said ok to a file copied from another node. Each host is bound
// on port 0, which proves the address without taking the port a running node may hold.
// Wildcard and empty hosts are every address and need no proof.
func listenProblems(cfg *conf.Config, path string, data []byte) conf.Errors {
	var errs conf.Errors
	for _, s := range cfg.Sockets() {
		host, _, err := net.SplitHostPort(s.Addr)
		if s.Addr == "" || err != nil || host == "" {
			continue
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err == nil {
			ln.Close()
			continue
		}
		msg := err.Error()
		if errors.Is(err, syscall.EADDRNOTAVAIL) {
			msg = fmt.Sprintf("%q: %s is not an address of this machine (shoal run could not listen on it)", s.Addr, host)
		}
		errs = append(errs, &conf.Error{File: path, Line: conf.KeyLine(data, s.Key), Key: s.Key, Msg: msg})
	}
	return errs
}
