// The local stack's Jaeger v2: the collector with only the components `ingest stack up jaeger`
// configures (OTLP receiver, batch processor, Jaeger storage exporter, jaeger_storage with its memory
// backend, jaeger_query), assembled as Jaeger's cmd/jaeger/internal/components.go does. Leaving out
// the Kafka, Zipkin, Jaeger-protocol, Prometheus, tail-sampling and health/debug components cuts a
// fifth of the packages, 15-30% of a first build's CPU time (193 s instead of 238 s on two idle
// cores) and 25 MB of binary, and nothing we do not configure exists to listen.
//
// The module path sits under github.com/jaegertracing/jaeger/cmd/jaeger because those components
// live in cmd/jaeger/internal: Go allows importing an internal package from import paths rooted at
// its parent, whichever module they are in. They are not Jaeger's public API, so a version bump may
// need this file changed; go.mod pins the version.
package main

import (
	"log"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/otelcol"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/batchprocessor"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"

	"github.com/jaegertracing/jaeger/cmd/jaeger/internal/exporters/storageexporter"
	"github.com/jaegertracing/jaeger/cmd/jaeger/internal/extension/jaegerquery"
	"github.com/jaegertracing/jaeger/cmd/jaeger/internal/extension/jaegerstorage"
)

// version is the Jaeger module go.mod requires (v1.75.0 is Jaeger 2.12).
const version = "v1.75.0"

func components() (otelcol.Factories, error) {
	var err error
	factories := otelcol.Factories{}
	factories.Extensions, err = otelcol.MakeFactoryMap[extension.Factory](
		jaegerstorage.NewFactory(),
		jaegerquery.NewFactory(),
	)
	if err != nil {
		return otelcol.Factories{}, err
	}
	factories.Receivers, err = otelcol.MakeFactoryMap[receiver.Factory](otlpreceiver.NewFactory())
	if err != nil {
		return otelcol.Factories{}, err
	}
	factories.Processors, err = otelcol.MakeFactoryMap[processor.Factory](batchprocessor.NewFactory())
	if err != nil {
		return otelcol.Factories{}, err
	}
	factories.Exporters, err = otelcol.MakeFactoryMap[exporter.Factory](storageexporter.NewFactory())
	if err != nil {
		return otelcol.Factories{}, err
	}
	return factories, nil
}

func main() {
	command := otelcol.NewCommand(otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{Command: "jaeger", Description: "Jaeger backend v2 (ingest-graph's local stack)", Version: version},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				// No http(s) provider: the configuration is always a local file.
				ProviderFactories: []confmap.ProviderFactory{
					envprovider.NewFactory(),
					fileprovider.NewFactory(),
					yamlprovider.NewFactory(),
				},
			},
		},
	})
	if err := command.Execute(); err != nil {
		log.Fatal(err)
	}
}
