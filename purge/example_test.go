package purge_test

import (
	"context"
	"fmt"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/purge"
)

func ExampleService_Purge() {
	store, err := cachestore.NewMemory(cachestore.Config{}, nil)
	if err != nil {
		panic(err)
	}
	defer store.Close()
	const url = "http://www.example.com/a.css"
	store.Set(&cachestore.Object{Key: url, URL: url, Status: 200, Body: []byte("a{}"), Generation: store.Begin()})

	svc, err := purge.New(conf.Purge{}, store, purge.StaticCluster{Name: "edge-1"}, purge.Options{})
	if err != nil {
		panic(err)
	}
	// The URL is normalised like the edge's cache key: host case and default port do not matter.
	resp, err := svc.Purge(context.Background(), purge.Request{Kind: purge.KindURL, Value: "http://WWW.example.com:80/a.css"})
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.Purged, resp.Acked, resp.Missing)
	// Output: 1 [edge-1] []
}

func ExampleKeyForURL() {
	key, _ := purge.KeyForURL("https://WWW.Example.com:443/search?q=shoal&lang=en#top")
	fmt.Println(key)
	// Output: https://www.example.com/search?q=shoal&lang=en
}
