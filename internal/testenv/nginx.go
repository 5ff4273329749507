package testenv

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Nginx is a real nginx process serving a directory on loopback.
type Nginx struct {
	Addr string // 127.0.0.1:port
	URL  string // http://Addr
	Root string // document root: tests write files here
	Name string

	dir string
	cmd *exec.Cmd
	t   testing.TB
}

// NginxOptions shape the server. Extra is added inside the server block, e.g. locations
// that set headers or a dynamic-looking endpoint.
type NginxOptions struct {
	Name  string // answers in the X-Served-By header; default "nginx"
	Extra string
}

// StartNginx starts nginx with its own config in a temp dir; it is stopped when the test ends.
func StartNginx(t testing.TB, opts NginxOptions) *Nginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	_, statErr := os.Stat(bin)
	Require(t, statErr == nil, "nginx is not installed (apt-get install nginx-light)")
	if opts.Name == "" {
		opts.Name = "nginx"
	}
	dir := t.TempDir()
	n := &Nginx{Addr: FreePort(t), Root: filepath.Join(dir, "www"), Name: opts.Name, dir: dir, t: t}
	n.URL = "http://" + n.Addr
	if err := os.MkdirAll(n.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	n.WriteFile("health.html", "OK\n")
	config := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
  log_format plain '$request';
  access_log %[1]s/access.log plain;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  types { text/html html; text/css css; application/javascript js; image/png png; text/plain txt; }
  default_type application/octet-stream;
  keepalive_requests 100000;
  server {
    listen %[2]s;
    root %[3]s;
    add_header X-Served-By %[4]s always;
    %[5]s
  }
}
`, dir, n.Addr, n.Root, opts.Name, opts.Extra)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	n.cmd = exec.Command(bin, "-p", dir, "-c", conf)
	n.cmd.Stderr = &stderr
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(n.Stop)
	if err := waitHTTP(n.URL+"/health.html", 10*time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		t.Fatalf("nginx did not come up: %v\n%s\n%s", err, stderr.String(), log)
	}
	return n
}

// Requests counts the requests nginx has logged so far for paths starting with prefix.
//
// nginx writes a request's log line in its log phase, after the response has been handed to
// the socket, so a client can hold the response before the line exists. Requests therefore
// reads until the log has stopped growing for logSettle (at most a second): a count taken
// right after a response was received includes that response's request.
func (n *Nginx) Requests(prefix string) int {
	path := filepath.Join(n.dir, "access.log")
	data, _ := os.ReadFile(path)
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		time.Sleep(logSettle)
		again, _ := os.ReadFile(path)
		if len(again) == len(data) {
			break
		}
		data = again
	}
	return bytes.Count(data, []byte(" "+prefix))
}

// logSettle is how long the access log must stay unchanged for Requests to trust a count.
const logSettle = 30 * time.Millisecond

// WriteFile puts a file under the document root.
func (n *Nginx) WriteFile(name, body string) {
	n.t.Helper()
	p := filepath.Join(n.Root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

// Stop kills nginx (as a crash would); it is idempotent.
func (n *Nginx) Stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	n.cmd.Wait()
	n.cmd = nil
}

func waitHTTP(url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var err error
	for time.Now().Before(deadline) {
		var resp *http.Response
		resp, err = http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}
