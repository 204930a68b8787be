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

        # A histogram sample's value, as {#samples} gives it and as scrape-time
        # histograms (a backend's fsync timings) are exported.
        # @param bounds [Array<Numeric>] ascending upper bounds (without +Inf)
        # @param counts [Array<Integer>] observations per bound (not cumulative;
        #   extra entries, such as a `+Inf` one, are ignored)
        # @param sum [Numeric]
        # @param count [Integer] every observation, `+Inf` included
        # @return [Hash] `{buckets: [[le, cumulative count]...], sum:, count:}`
        def self.histogram_value(bounds, counts, sum, count)
          running = 0
          { buckets: bounds.each_with_index.map { |bound, i| [bound, running += counts[i]] }, sum: sum, count: count }
        end

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
          @lock.synchronize { add(name, labels, by) }
          nil
        end

        # Several updates under one lock (a request touches four families).
        # @yieldparam batch [Batch] `increment`/`observe` as here, without locking again
        # @return [nil]
        def batch
          @lock.synchronize { yield Batch.new(self) }
          nil
        end

        # The updates of one {#batch}.
        class Batch
          # @param registry [MetricRegistry]
          def initialize(registry)
            @registry = registry
          end

          # @return [nil]
          def increment(name, labels = {}, by: 1)
            @registry.__send__(:add, name, labels, by)
            nil
          end

          # @return [nil]
          def observe(name, labels, value)
            @registry.__send__(:record, name, labels, value)
            nil
          end
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
          @lock.synchronize { record(name, labels, value) }
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
            @values[name].each_with_object({}) do |(key, value), out|
              label = key[index].to_s
              out[label] = (out[label] || 0) + value
            end
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

        # Label values as given (Symbols as their frozen names, so :http and
        # "http" are one series); they become Strings when collected.
        def key_of(name, labels)
          @families.fetch(name).labels.map do |label|
            value = labels.fetch(label)
            value.is_a?(Symbol) ? value.name : value
          end
        end

        # Caller holds @lock.
        def add(name, labels, by)
          key = key_of(name, labels)
          @values[name][key] = (@values[name][key] || 0) + by
        end

        # Caller holds @lock.
        def record(name, labels, value)
          family = @families.fetch(name)
          cell = (@values[name][key_of(name, labels)] ||= { counts: Array.new(family.buckets.size, 0), sum: 0.0,
                                                             count: 0 })
          index = family.buckets.index { |bound| value <= bound }
          cell[:counts][index] += 1 if index
          cell[:sum] += value
          cell[:count] += 1
        end

        def sample(family, key, cell)
          labels = family.labels.zip(key.map(&:to_s)).to_h
          return { labels: labels, value: cell } unless family.type == :histogram

          { labels: labels, value: self.class.histogram_value(family.buckets, cell[:counts], cell[:sum], cell[:count]) }
        end
      end
    end
  end
end
