# frozen_string_literal: true

module Igniter
  module Store
    module Codecs
      # The pure path's {Accelerator}: no byte work is handed off, so every
      # codec call answers nil ("do it in Ruby") and the codecs keep a single
      # code path. Bound by core/native.rb.
      module RubyAccelerator
        # @return [nil] the codec encodes the frame itself
        def self.json_frame(_fact)
          nil
        end

        # @return [nil] the codec scans the segment itself
        def self.salvage_json(_bytes, records: false) # rubocop:disable Lint/UnusedMethodArgument -- NativeAccelerator's signature
          nil
        end

        # @return [nil] the codec scans the segment itself
        def self.salvage_compact(_bytes, records: false) # rubocop:disable Lint/UnusedMethodArgument -- NativeAccelerator's signature
          nil
        end

        # @return [nil] the codec keeps its dictionary and deltas in Ruby
        def self.compact_encoder(_fact, _header)
          nil
        end

        # @param attributes [Hash] decoded members, already normalized and
        #   frozen: the Struct takes them as they are
        # @return [Fact]
        def self.fact(attributes)
          Fact.new(**attributes).freeze
        end
      end
    end
  end
end
