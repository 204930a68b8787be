# frozen_string_literal: true

require "monitor"
require_relative "backend"

module Igniter
  module Store
    # A backend that keeps facts in process memory: the smallest complete
    # implementation of the backend contract (doc/contracts.md), for tests
    # and as a model for backend authors. Facts are kept as given (frozen
    # {Fact}s), so a replay hands back the very objects written.
    class MemoryBackend
      include Backend

      # What this backend declares (doc/contracts.md).
      CAPABILITIES = Capabilities.declare(Capabilities::SNAPSHOTS, Capabilities::REWRITE)

      def initialize
        @facts = []
        @snapshot = [].freeze
        @closed = false
        @lock = Monitor.new
      end

      # @return [Set<Symbol>] {CAPABILITIES}
      def capabilities
        CAPABILITIES
      end

      # @param fact [Fact]
      # @return [nil]
      # @raise [IOError] after {#close}
      def write_fact(fact)
        @lock.synchronize do
          check_open!
          @facts << fact
        end
        nil
      end

      # What {FileBackend#replay} returns for the same calls: the snapshot's
      # facts, then the written facts whose id is not in it, stably sorted by
      # transaction time.
      # @return [Array<Fact>] a new Array
      def replay
        @lock.synchronize do
          ids = @snapshot.to_h { |fact| [fact.id, true] }
          (@snapshot + @facts.reject { |fact| ids.key?(fact.id) }).each_with_index
                                                                   .sort_by { |f, i| [f.transaction_time, i] }
                                                                   .map(&:first)
        end
      end

      # A checkpoint: the next replay starts from +facts+. Written facts stay
      # (as a WAL stays beside its snapshot), so one left out comes back.
      # @param facts [Enumerable<Fact>]
      # @return [nil]
      def write_snapshot(facts)
        @lock.synchronize { @snapshot = facts.to_a.freeze }
        nil
      end

      # The log becomes exactly +facts+ (plus later writes).
      # @param facts [Enumerable<Fact>]
      # @return [nil]
      def replace_with_snapshot!(facts)
        @lock.synchronize do
          @snapshot = facts.to_a.freeze
          @facts = []
          @closed = false
        end
        nil
      end

      # @return [nil]; later writes raise
      def close
        @lock.synchronize { @closed = true }
        nil
      end

      # @return [Boolean]
      def closed?
        @closed
      end

      private

      def check_open!
        raise IOError, "MemoryBackend is closed" if @closed
      end
    end
  end
end
