# frozen_string_literal: true

require "open3"

module LedgerSpec
  # Reading the Prometheus text a server exposes.
  module PrometheusHelpers
    SAMPLE = /\A(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>.*)\})? (?<value>\S+)\z/.freeze
    LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/.freeze

    # @return [Array<Hash>] `{name:, labels: {String=>String}, value: Float}` per sample line
    def prometheus_samples(text)
      text.each_line.filter_map do |line|
        line = line.chomp
        next if line.empty? || line.start_with?("#")

        m = line.match(SAMPLE) or raise "not a sample line: #{line.inspect}"
        { name: m[:name], labels: m[:labels].to_s.scan(LABEL).to_h, value: Float(m[:value]) }
      end
    end

    # The value of the one sample of +name+ whose labels include +labels+ (0 when there is none).
    def sample_value(samples, name, **labels)
      wanted = labels.transform_keys(&:to_s).transform_values(&:to_s)
      found = samples.select { |s| s[:name] == name && wanted.all? { |k, v| s[:labels][k] == v } }
      found.sum { |s| s[:value] }
    end

    # promtool from Debian's `prometheus` package; a CI run without it fails.
    # @return [String] path
    def promtool!
      path = ENV.fetch("PATH", "").split(File::PATH_SEPARATOR).map { |dir| File.join(dir, "promtool") }
                .find { |file| File.executable?(file) }
      return path if path
      raise "promtool is missing (bin/setup installs Debian's prometheus package)" if ENV["CI"]

      skip "promtool not installed (apt-get install prometheus)"
    end

    # @return [Array(String, Process::Status)] promtool's output and status for +text+
    def promtool_check(text)
      out, status = Open3.capture2e(promtool!, "check", "metrics", stdin_data: text)
      [out, status]
    end
  end
end

RSpec.configure do |config|
  config.include LedgerSpec::PrometheusHelpers
end
