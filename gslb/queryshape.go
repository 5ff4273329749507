package gslb

import "github.com/miekg/dns"

// onlyQuestion reports whether a QUERY carries nothing in its answer and authority sections,
// as RFC 1035 section 4.1.1 has a query's ANCOUNT and NSCOUNT (RFC 7873 and RFC 6891 put
// what a query may add, the OPT record, in the additional section). BIND and gdnsd answer
// FORMERR to a query with records there: they are not a question we could answer, and
// answering NOERROR tells the sender its message was understood. Other opcodes (NOTIFY,
// UPDATE) use those sections; they get NOTIMP before this is asked.
func onlyQuestion(r *dns.Msg) bool {
	return len(r.Answer) == 0 && len(r.Ns) == 0
}
