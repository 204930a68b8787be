# frozen_string_literal: true

module Igniter
  module Store
    # The point table both read caches keep (ReadCache for current reads,
    # TravelCache for +as_of+ ones): +@points+ maps store → key → as_of →
    # entry, and every entry is also held by a tracker (the LRU, or the
    # bound of current entries) that forgets it when the table does.
    module CachedPoints
      private

      # Forgets the points of +key+ in +store+ (every key when nil), each
      # entry also from +tracker+.
      # @param tracker [Hash] entry => anything
      def drop_points_of(tracker, store, key)
        by_key = @points[store] or return
        doomed = key.nil? ? by_key.keys : [key]
        doomed.each do |k|
          versions = by_key.delete(k) or next
          versions.each_value { |entry| tracker.delete(entry) }
        end
        @points.delete(store) if by_key.empty?
      end

      # Wall-clock seconds, what an entry's +cached_at+ and a ttl are read in.
      def now
        Process.clock_gettime(Process::CLOCK_REALTIME)
      end
    end
  end
end
