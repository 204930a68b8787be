# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # Labelled counters, gauges and histograms of one server, the single
      # source of both `GET /metrics` (Prometheus text, {PrometheusText}) and
      # `GET /v1/metrics` (JSON). Thread-safe (one lock).
      #
      # Label values are the callers' to bound: they pass known op names,
      # statuses and classes (unknown ops become "unknown"), so a client
      # cannot grow the number of series.
      #
      # Written by hand rather than with a Prometheus client gem: Debian's
      # only one (prometheus-client-mmap) keeps its values in mmap'd files
      # of a directory it must be given, which a library embedded in other
      # processes should not impose.
      class MetricRegistry
        # One metric: `type` :counter, :gauge or :histogram.
        Family = Struct.new(:name, :type, :help, :labels, :buckets, keyword_init: true)

        # Upper bounds (seconds) of request duration histograms: from half a
        # millisecond (an in-memory read) to ten seconds (a large replay).
        DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].freeze

        def initialize
          @lock = Mutex.new
          @families = {}
          @values = {}
        end

        # @param name [String] full metric name (base units, `_total` for counters)
        # @param help [String]
        # @param labels [Array<Symbol>] label names, in output order
        # @return [self]
        def counter(name, help, labels: [])
          define(name, :counter, help, labels)
        end

        # @param (see #counter)
        # @return [self]
        def gauge(name, help, labels: [])
          define(name, :gauge, help, labels)
        end

        # @param (see #counter)
        # @param buckets [Array<Numeric>] ascending upper bounds (+Inf is added)
        # @return [self]
        def histogram(name, help, labels: [], buckets: DURATION_BUCKETS)
          define(name, :histogram, help, labels, buckets.sort.freeze)
        end

        # Adds to a counter (or gauge).
        # @param name [String]
        # @param labels [Hash{Symbol=>#to_s}] one value per label name
        # @param by [Numeric]
        # @return [nil]
        def increment(name, labels = {}, by: 1)
          key = key_of(name, labels)
          @lock.synchronize { @values[name][key] = (@values[name][key] || 0) + by }
          nil
        end

        # @param name [String] a gauge
        # @param labels [Hash]
        # @param value [Numeric]
        # @return [nil]
        def set(name, labels, value)
          key = key_of(name, labels)
          @lock.synchronize { @values[name][key] = value }
          nil
        end

        # Records one observation of a histogram.
        # @param name [String]
        # @param labels [Hash]
        # @param value [Numeric]
        # @return [nil]
        def observe(name, labels, value)
          family = @families.fetch(name)
          key = key_of(name, labels)
          @lock.synchronize do
            cell = (@values[name][key] ||= { counts: Array.new(family.buckets.size, 0), sum: 0.0, count: 0 })
            index = family.buckets.index { |bound| value <= bound }
            cell[:counts][index] += 1 if index
            cell[:sum] += value
            cell[:count] += 1
          end
          nil
        end

        # @param name [String]
        # @return [Numeric] the sum over all label values of a counter or gauge
        def sum(name)
          @lock.synchronize { @values.fetch(name).values.sum }
        end

        # Sums a counter over every label but +label+.
        # @param name [String]
        # @param label [Symbol]
        # @return [Hash{String=>Numeric}] label value => sum
        def sum_by(name, label)
          family = @families.fetch(name)
          index = family.labels.index(label)
          @lock.synchronize do
            @values[name].each_with_object({}) { |(key, value), out| out[key[index]] = (out[key[index]] || 0) + value }
          end
        end

        # @param name [String]
        # @param labels [Hash]
        # @return [Numeric, Hash, nil] a counter's or gauge's value, a histogram's `{counts:, sum:, count:}`
        def value(name, labels = {})
          key = key_of(name, labels)
          @lock.synchronize do
            cell = @values[name][key]
            cell.is_a?(Hash) ? cell.merge(counts: cell[:counts].dup) : cell
          end
        end

        # Every family with its samples, in definition order, for rendering.
        # @return [Array<Hash>] `{name:, type:, help:, samples: [{labels: Hash, value:}]}`;
        #   a histogram sample's value is `{buckets: [[le, cumulative count]...], sum:, count:}`
        def collect
          @lock.synchronize do
            @families.values.map do |family|
              samples = @values[family.name].map { |key, cell| sample(family, key, cell) }
              { name: family.name, type: family.type, help: family.help, samples: samples }
            end
          end
        end

        private

        def define(name, type, help, labels, buckets = nil)
          @lock.synchronize do
            @families[name] = Family.new(name: name, type: type, help: help, labels: labels.freeze, buckets: buckets)
            @values[name] = {}
          end
          self
        end

        def key_of(name, labels)
          @families.fetch(name).labels.map { |label| labels.fetch(label).to_s }.freeze
        end

        def sample(family, key, cell)
          labels = family.labels.zip(key).to_h
          return { labels: labels, value: cell } unless family.type == :histogram

          running = 0
          buckets = family.buckets.each_with_index.map { |bound, i| [bound, running += cell[:counts][i]] }
          { labels: labels, value: { buckets: buckets, sum: cell[:sum], count: cell[:count] } }
        end
      end
    end
  end
end
