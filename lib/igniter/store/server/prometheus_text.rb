# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # Renders metric families ({MetricRegistry#collect}'s shape) in the
      # Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` per
      # family, one line per sample, histograms as cumulative `_bucket`
      # lines (with `le="+Inf"`), `_sum` and `_count`.
      module PrometheusText
        # The Content-Type Prometheus scrapers ask for.
        CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

        module_function

        # @param families [Array<Hash>] `{name:, type:, help:, samples:}`
        # @return [String] the exposition, ending in "\n"
        def render(families)
          out = +""
          MetricsExport.combine(families).each do |family|
            out << "# HELP #{family[:name]} #{escape_help(family[:help])}\n"
            out << "# TYPE #{family[:name]} #{family[:type]}\n"
            family[:samples].each { |sample| out << sample_lines(family, sample) }
          end
          out
        end

        def sample_lines(family, sample)
          name = family[:name]
          labels = sample[:labels]
          return "#{name}#{label_text(labels)} #{number(sample[:value])}\n" unless family[:type] == :histogram

          value = sample[:value]
          lines = value[:buckets].map do |bound, count|
            "#{name}_bucket#{label_text(labels.merge(le: number(bound)))} #{count}\n"
          end
          lines << "#{name}_bucket#{label_text(labels.merge(le: "+Inf"))} #{value[:count]}\n"
          lines << "#{name}_sum#{label_text(labels)} #{number(value[:sum])}\n"
          lines << "#{name}_count#{label_text(labels)} #{value[:count]}\n"
          lines.join
        end

        def label_text(labels)
          return "" if labels.empty?

          "{#{labels.map { |key, value| "#{key}=\"#{escape_label(value.to_s)}\"" }.join(",")}}"
        end

        # Integers as integers, other numbers in Ruby's shortest form (Prometheus parses both).
        def number(value)
          return value.to_s if value.is_a?(Integer)

          float = value.to_f
          return "+Inf" if float == Float::INFINITY
          return "-Inf" if float == -Float::INFINITY
          return "NaN" if float.nan?

          float == float.floor && float.abs < 1e15 ? float.to_i.to_s : float.to_s
        end

        def escape_label(text)
          text.gsub("\\", "\\\\\\\\").gsub("\n", "\\n").gsub('"', '\\"')
        end

        def escape_help(text)
          text.gsub("\\", "\\\\\\\\").gsub("\n", "\\n")
        end

        private_class_method :sample_lines, :label_text, :escape_label, :escape_help
      end
    end
  end
end
