package disk_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-cdn/shoal/cachestore/disk"
)

func Example() {
	dir, _ := os.MkdirTemp("", "shoal-disk-example-")
	defer os.RemoveAll(dir)
	d, err := disk.Open(disk.Config{Path: dir, Size: 64 << 20}, prometheus.NewRegistry())
	if err != nil {
		log.Fatal(err)
	}
	<-d.Loaded() // the edge does not wait: Get says ErrLoading meanwhile

	gen := d.Begin() // when the fill starts
	now := time.Now()
	d.Put(disk.Record{Key: "http://www.example.com/a.css", Tags: []string{"product-42"},
		Head: []byte("HTTP/1.1 200 OK\r\nContent-Type: text/css\r\n\r\n"), Body: []byte("a{}"),
		RequestTime: now, ResponseTime: now, Expires: now.Add(time.Hour), Generation: gen})
	d.Wait() // tests only: Put is asynchronous

	h, err := d.Get("http://www.example.com/a.css")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(h.Body()) // HTTP/1.1 sends h.File() from h.BodyOffset() instead
	h.Close()
	fmt.Printf("%s %d\n", body, h.BodyLength())

	fmt.Println(d.AddBan(disk.Ban{Kind: disk.BanTag, Value: "product-42", Time: time.Now()}))
	_, err = d.Get("http://www.example.com/a.css")
	fmt.Println(err)
	d.Close()
	// Output:
	// a{} 3
	// 1
	// disk: not found
}
