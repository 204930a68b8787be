# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # What a recovery mode makes of one segment's salvage scan
      # (doc/format.md "Segments: salvage"): the facts served, the spans to
      # quarantine, and the end of the last kept frame (where an orphan is
      # cut). Shared by both paths: only the scan comes from Rust or Ruby.
      class SalvagePlan
        # @return [Array<Fact>, NativeRecords] facts served from the segment
        #   (as the scan holds them: `size` and `first(n)` either way)
        attr_reader :facts
        # @return [Array<Array(Integer, Integer, Symbol)>] offset, length and
        #   reason of every span copied to quarantine (damage, and under
        #   :truncate the valid frames after it as `:after_damage`)
        attr_reader :spans
        # @return [Integer] end of the last kept frame
        attr_reader :kept_end
        # @return [Integer] bytes of the kept frames
        attr_reader :valid_bytes
        # @return [Integer] kept frames after the first damage
        attr_reader :salvaged_frames
        # @return [Integer] size of the scanned bytes
        attr_reader :size

        # @param scan [Codecs::Salvage::Scan]
        # @param mode [Symbol]
        # @param size [Integer]
        def initialize(scan, mode, size)
          @scan = scan
          @size = size
          first = scan.spans.first&.first
          kept = scan.frames
          @spans = scan.spans
          @facts = scan.facts
          if mode == :truncate && first
            kept = scan.frames.take_while { |offset, _| offset < first }
            @facts = scan.facts.first(kept.sum { |_, _, count| count })
            @spans = (@spans + after_damage(scan.frames.drop(kept.size))).sort_by(&:first)
          end
          @salvaged_frames = first ? (kept.count { |offset, _| offset > first }) : 0
          @valid_bytes = kept.sum { |_, length| length }
          @kept_end = kept.empty? ? 0 : kept.last[0] + kept.last[1]
        end

        # @return [Boolean] the scan found damaged bytes
        def damaged?
          !@scan.spans.empty?
        end

        # @return [Array(Integer, Integer, Symbol), nil] the first damaged span
        def first_damage
          @scan.spans.first
        end

        # @return [Integer] damaged spans found (`after_damage` is not damage)
        def damaged_spans
          @scan.spans.size
        end

        # @return [Symbol] reason of the first damage, `:clean` without any
        def tail
          first_damage ? first_damage[2] : :clean
        end

        private

        # Runs of frames dropped after the first damage, as `:after_damage` spans.
        def after_damage(frames)
          frames.each_with_object([]) do |(offset, length, _), out|
            last = out.last
            if last && last[0] + last[1] == offset
              last[1] += length
            else
              out << [offset, length, :after_damage]
            end
          end
        end
      end
    end
  end
end
