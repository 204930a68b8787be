# frozen_string_literal: true

module Igniter
  module Store
    module Codecs
      # What every segment codec does alike (doc/format.md "Segment codecs"): it
      # is named by its class's `NAME`, writes nothing when a segment starts (a
      # {JsonCrc32} segment has no header; a {CompactDelta} one writes its header
      # with the first fact), and decodes a segment as the facts its class's
      # `salvage` finds in the rest of the IO.
      module SegmentCodec
        # @return [String] canonical codec name
        def name
          self.class::NAME
        end

        # Nothing is written before the first fact. @return [Integer] 0
        def start_segment(_io, store:)
          @store = store
          0
        end

        # @param io [IO] positioned at the segment start
        # @return [Array<Fact>] every fact of the segment's good frames
        def decode(io)
          self.class.salvage(Codecs.rest(io)).facts
        end
      end
    end
  end
end
