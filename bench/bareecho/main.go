// Command bareecho is the reference of bench/load.sh: a bare Echo v5 server with Echo's gzip
// middleware that answers every GET with the bytes of one file, the payload our own stack serves
// in the same run. The ratio of our throughput to its is the number the load benchmark reports.
//
// Usage: bareecho ADDR FILE
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bareecho:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: bareecho ADDR FILE")
	}
	payload, err := os.ReadFile(args[1])
	if err != nil {
		return err
	}
	e := echo.New()
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{Level: 4, MinLength: 1024}))
	e.GET("/*", func(c *echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, payload)
	})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sc := echo.StartConfig{Address: args[0], HideBanner: true, HidePort: true}
	if err := sc.Start(ctx, e); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
