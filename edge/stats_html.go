package edge

import (
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/shoal-cdn/shoal/origin"
)

// statsView is a statsSnapshot formatted for people: the template only places strings.
type statsView struct {
	Node      string
	Generated string
	HitRatio  string
	Hits      uint64
	Misses    uint64
	Objects   int64
	Bytes     string
	Disk      *diskView
	Pools     []poolView
	Routes    []routeStats
	// Maintenance: every request is answered 503 (error_pages.maintenance).
	Maintenance bool
	Nodes       []nodeStats
}

type poolView struct {
	Name    string
	Balance string
	Healthy bool
	Queued  int
	Up      int // servers taking traffic (up, backup or drain)
	Servers []serverView
}

type serverView struct {
	ID       string
	URL      string
	State    string // origin.StateUp, StateDown, ...
	Ejected  bool
	Check    string // "ok 200", "failed: connection refused", "not checked"
	Failed   bool   // the last check failed
	CheckAge string
	Weight   string
	Active   int
	Requests uint64
	Errors   uint64
	Latency  string
}

func newStatsView(s statsSnapshot) statsView {
	v := statsView{
		Node:        s.Node,
		Generated:   s.Time.Format("2006-01-02 15:04:05 MST"),
		HitRatio:    "–",
		Hits:        s.Cache.Hits,
		Misses:      s.Cache.Misses,
		Objects:     s.Cache.Objects,
		Bytes:       humanBytes(s.Cache.Bytes),
		Routes:      s.Routes,
		Maintenance: s.Maintenance,
		Nodes:       s.Nodes,
	}
	if d := s.Cache.Disk; d != nil {
		v.Disk = &diskView{State: d.State, Objects: d.Objects, Bytes: humanBytes(d.Bytes), Size: humanBytes(d.Size)}
		if d.Pinned > 0 {
			v.Disk.Pinned = humanBytes(d.Pinned)
		}
	}
	if s.Cache.Hits+s.Cache.Misses > 0 {
		v.HitRatio = fmt.Sprintf("%.1f%%", 100*s.Cache.HitRatio)
	}
	for _, p := range s.Pools {
		pv := poolView{Name: p.Name, Balance: p.Balance, Healthy: p.Healthy, Queued: p.Queued}
		for _, srv := range p.Servers {
			if srv.State != origin.StateDown {
				pv.Up++
			}
			pv.Servers = append(pv.Servers, newServerView(srv, s.Time))
		}
		v.Pools = append(v.Pools, pv)
	}
	return v
}

func newServerView(s origin.ServerSnapshot, now time.Time) serverView {
	sv := serverView{
		ID: s.ID, URL: s.URL, State: s.State, Ejected: s.Ejected,
		Weight: strconv.Itoa(s.Weight), Active: s.Active, Requests: s.Requests, Errors: s.Errors,
		Latency: "–", Check: "not checked", CheckAge: "–",
	}
	if s.EffectiveWeight < float64(s.Weight) {
		sv.Weight = fmt.Sprintf("%d (ramping %.2f)", s.Weight, s.EffectiveWeight)
	}
	if s.MeanLatency > 0 {
		sv.Latency = fmt.Sprintf("%.1f ms", s.MeanLatency*1000)
	}
	if !s.LastCheck.Time.IsZero() {
		sv.Failed = !s.LastCheck.OK
		if s.LastCheck.OK {
			sv.Check = "ok " + s.LastCheck.Detail
		} else {
			sv.Check = "failed: " + s.LastCheck.Detail
		}
		sv.CheckAge = now.Sub(s.LastCheck.Time).Round(100*time.Millisecond).String() + " ago"
	}
	return sv
}

func humanBytes(b int64) string {
	const unit = 1024
	if b < unit {
		return strconv.FormatInt(b, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := b / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

// statsTemplate is parsed once and only executed afterwards, which html/template allows
// concurrently. Every value goes through its contextual escaping: pool names, ids, URLs and
// check details come from configuration files and from origin servers' answers.
var statsTemplate = template.Must(template.New("stats").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="2">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shoal {{.Node}} – stats</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2329; background: #fff; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.2em; margin: 1.6em 0 .4em; }
.muted { color: #5b6670; }
.summary { display: flex; gap: 2.5em; flex-wrap: wrap; margin: 1em 0; }
.summary div { border-left: 3px solid #4a7bd0; padding-left: .6em; }
.summary b { display: block; font-size: 1.4em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .7em; border-bottom: 1px solid #dde2e6; white-space: nowrap; }
th { background: #f1f4f6; font-weight: 600; }
td.check { white-space: normal; max-width: 30em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.state { font-weight: 700; padding: .1em .5em; border-radius: 3px; }
.state-up { background: #d8f3dc; color: #155d27; }
.state-down { background: #ffd7d7; color: #9b1111; }
.state-drain, .state-backup { background: #fff1c2; color: #6d5200; }
td.check-failed { color: #9b1111; }
.badge { font-size: .8em; padding: .1em .5em; border-radius: 3px; margin-left: .5em; vertical-align: middle; }
.healthy { background: #d8f3dc; color: #155d27; }
.unhealthy { background: #ffd7d7; color: #9b1111; }
</style>
</head>
<body>
<h1>Shoal node {{.Node}}</h1>
<div class="muted">{{.Generated}} · refreshes every 2 s</div>
<div class="summary">
<div>hit ratio<b id="hit-ratio">{{.HitRatio}}</b></div>
<div>hits / misses<b>{{.Hits}} / {{.Misses}}</b></div>
<div>objects stored<b id="objects">{{.Objects}}</b></div>
<div>bytes stored<b id="bytes">{{.Bytes}}</b></div>
{{with .Disk}}<div>disk tier<b id="disk-state">{{.State}}</b></div>
<div>disk objects<b id="disk-objects">{{.Objects}}</b></div>
<div>disk bytes<b id="disk-bytes">{{.Bytes}} of {{.Size}}</b></div>{{if .Pinned}}
<div>pinned by readers<b id="disk-pinned">{{.Pinned}}</b></div>{{end}}{{end}}
</div>
{{range .Pools}}
<section class="pool" data-pool="{{.Name}}">
<h2>Pool {{.Name}}
{{if .Healthy}}<span class="badge healthy">healthy</span>{{else}}<span class="badge unhealthy">no server available</span>{{end}}
</h2>
<div class="muted">balance {{.Balance}} · {{.Up}} of {{len .Servers}} servers up · {{.Queued}} queued</div>
<table>
<thead><tr><th>server</th><th>url</th><th>state</th><th>last check</th><th>weight</th><th>active</th><th>requests</th><th>errors</th><th>mean latency</th></tr></thead>
<tbody>
{{range .Servers}}<tr class="server" data-server="{{.ID}}" data-state="{{.State}}">
<td>{{.ID}}</td>
<td>{{.URL}}</td>
<td><span class="state state-{{.State}}">{{.State}}</span>{{if .Ejected}} <span class="muted">(ejected)</span>{{end}}</td>
<td class="check{{if .Failed}} check-failed{{end}}">{{.Check}} <span class="muted">{{.CheckAge}}</span></td>
<td class="num">{{.Weight}}</td>
<td class="num">{{.Active}}</td>
<td class="num">{{.Requests}}</td>
<td class="num">{{.Errors}}</td>
<td class="num">{{.Latency}}</td>
</tr>
{{end}}</tbody>
</table>
</section>
{{else}}
<p>No origin pools are configured.</p>
{{end}}
{{with .Nodes}}<section class="nodes">
<h2>Cluster</h2>
<table>
<thead><tr><th>node</th><th>state</th><th>region</th><th>public address</th><th>peer port</th><th>weight</th><th>pools down</th><th>VIPs</th></tr></thead>
<tbody>
{{range .}}<tr class="member" data-node="{{.Name}}" data-state="{{.State}}">
<td>{{.Name}}{{if .Self}} <span class="muted">(this node)</span>{{end}}</td>
<td><span class="state state-{{if eq .State "alive"}}up{{else}}drain{{end}}">{{.State}}</span></td>
<td>{{.Region}}</td>
<td>{{.PublicAddr}}</td>
<td>{{.PeerAddr}}</td>
<td class="num">{{.Weight}}</td>
<td class="num">{{if lt .OriginsDown 0}}–{{else}}{{.OriginsDown}}{{end}}</td>
<td>{{range $i, $v := .VIPs}}{{if $i}}, {{end}}{{$v}}{{end}}</td>
</tr>
{{end}}</tbody>
</table>
</section>
{{end}}
{{if .Maintenance}}<p class="badge unhealthy" id="maintenance">maintenance: every request is answered 503</p>{{end}}
<section class="routes">
<h2>Routes</h2>
<table>
<thead><tr><th>#</th><th>match</th><th>origin</th><th>cache</th><th>policy</th></tr></thead>
<tbody>
{{range .Routes}}<tr class="route" data-route="{{.Index}}">
<td class="num">{{.Index}}</td>
<td>{{.Match}}</td>
<td>{{.Origin}}</td>
<td>{{.Cache}}</td>
<td class="check">{{range .Policy}}<div>{{.}}</div>{{else}}<span class="muted">none</span>{{end}}</td>
</tr>
{{end}}</tbody>
</table>
</section>
</body>
</html>
`))
