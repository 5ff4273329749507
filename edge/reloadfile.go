package edge

import (
	"errors"
	"net/http"

	"github.com/shoal-cdn/shoal/conf"
)

// ReloadFile reads Options.ConfigFile again and reloads it: SIGHUP (cmd/shoal) and POST
// /reload on the admin listener. A refusal is logged once, with via (what asked), and
// returned; it names the file, the line and the key, also for a key read only at start, and
// is counted in shoal_edge_reloads_total{result="refused"} like every refusal.
func (n *Node) ReloadFile(via string) error {
	if n.configFile == "" {
		return errors.New("edge: reload: the node has no configuration file to read again")
	}
	err := conf.Locate(n.ReloadWith(func() (*conf.Config, error) { return conf.Load(n.configFile) }), n.configFile)
	if err != nil {
		n.log.Error("reload refused; the running configuration stays", "via", via, "err", err)
	}
	return err
}

// reloadHandler is POST /reload: 200 when the file was applied, 422 with the refusal (file,
// line, key) when it was not, so that a deploy script learns the outcome at once, which a
// SIGHUP (answered before the file is read) cannot tell it.
func (n *Node) reloadHandler(w http.ResponseWriter, r *http.Request) {
	if err := n.ReloadFile("admin"); err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	w.Write([]byte("configuration reloaded\n"))
}
