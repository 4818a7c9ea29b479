import Testing
import GreyoakIngest

/// Prometheus's text format as greyoak writes it (the integration tests have node_exporter
/// and the Pushgateway read it); here the edges a scrape of greyoak's own values never hits.
@Suite struct MetricFamilyTests {
    @Test func labelValuesAndHelpAreEscaped() {
        let family = MetricFamily("greyoak_x", help: "a \\ b\nc", samples: [.init(1, labels: [("file", "a\"b\\c\nd")])])
        #expect(family.text == """
            # HELP greyoak_x a \\\\ b\\nc
            # TYPE greyoak_x gauge
            greyoak_x{file="a\\"b\\\\c\\nd"} 1

            """)
    }

    @Test(arguments: [(0.0, "0"), (1_728_345_600, "1728345600"), (0.25, "0.25"), (-3, "-3"), (.infinity, "+Inf"), (.nan, "NaN")])
    func valuesAreWrittenAsGoParsesThem(_ value: Double, _ text: String) {
        #expect(MetricFamily.format(value) == text)
    }

    @Test func aFailedRunCarriesOverOnlyTheNamedFamilies() {
        let old = MetricFamily.exposition([
            MetricFamily("greyoak_ingest_last_success_timestamp_seconds", help: "h", value: 10),
            MetricFamily("greyoak_ingest_last_run_rows", help: "r", samples: [.init(3, labels: [("outcome", "inserted")])]),
        ])
        let kept = MetricsTextfile.carriedOver(["greyoak_ingest_last_success_timestamp_seconds"], from: old)
        #expect(kept == """
            # HELP greyoak_ingest_last_success_timestamp_seconds h
            # TYPE greyoak_ingest_last_success_timestamp_seconds gauge
            greyoak_ingest_last_success_timestamp_seconds 10

            """)
    }

    @Test func thePushgatewayGroupIsTheJobUnlessTheURLNamesOne() {
        #expect(Pushgateway(url: "http://pg:9091/", job: "greyoak_ingest").groupURL == "http://pg:9091/metrics/job/greyoak_ingest")
        #expect(Pushgateway(url: "http://pg:9091/metrics/job/nightly/env/prod", job: "greyoak_ingest").groupURL
            == "http://pg:9091/metrics/job/nightly/env/prod")
    }
}
