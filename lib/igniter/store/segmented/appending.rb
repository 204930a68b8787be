# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # Writing to the live segment when the disk fails (ENOSPC, EIO, EROFS,
      # EACCES, …): a write that raises is cut back to the segment's size
      # before it, and the codec takes its fact back, so neither the file nor
      # memory keeps anything the caller was told failed, and the next write
      # goes on once the fault is gone. When even the cut fails, the segment
      # is abandoned: closed and left without a manifest, it is recovered like
      # a crashed one (its torn tail quarantined and cut) by the next open or
      # the next segment opened in its directory.
      module Appending
        private

        # Writes one fact through the segment's codec (and the pending batch
        # when the flush policy says so), then syncs under `durability: :fsync`.
        # @raise [SystemCallError, IOError] naming the segment; nothing was kept
        def append(seg, fact)
          pos = seg[:bytes]
          due = flush_due?(seg)
          begin
            written = seg[:codec].encode_fact(seg[:file], fact, flush: due)
          rescue SystemCallError, IOError => e
            cut_back(seg, pos)
            raise write_fault(e, "appending a fact to segment", seg[:path])
          end
          seg[:bytes] += written
          seg[:facts_since_flush] = due ? 0 : seg[:facts_since_flush] + 1 if seg.key?(:facts_since_flush)
          sync_segment(seg) if sync? && written.positive?
        end

        # The flush policy (doc/format.md "Segments: flush policy and loss windows"): after this fact, is the pending
        # batch written?
        def flush_due?(seg)
          case @flush
          when :on_write then true
          when Hash then @flush[:every_n] ? seg[:facts_since_flush] + 1 >= @flush[:every_n] : false
          else false
          end
        end

        # An fdatasync that fails leaves the page cache's word on what reached
        # the device untrustworthy (the kernel may have dropped the pages): the
        # segment is closed and recovered from disk at the next open.
        def sync_segment(seg)
          @sync_timing.time { seg[:file].fdatasync }
        rescue SystemCallError, IOError => e
          abandon(seg)
          raise write_fault(e, "syncing segment", seg[:path],
                            "the segment is closed and is recovered from disk at the next open")
        end

        # Writes the pending batch and syncs before a seal.
        def flush_for_seal(seg)
          pos = seg[:bytes]
          seg[:bytes] += seg[:codec].flush(seg[:file])
          seg[:file].flush
          @sync_timing.time { seg[:file].fsync } if sync?
        rescue SystemCallError, IOError => e
          cut_back(seg, pos)
          raise write_fault(e, "writing the last batch of segment", seg[:path])
        end

        def cut_back(seg, pos)
          seg[:file].truncate(pos)
        rescue SystemCallError, IOError
          abandon(seg)
        end

        def abandon(seg)
          seg[:file].close unless seg[:file].closed?
        rescue SystemCallError, IOError
          nil
        ensure
          @segments.delete(seg[:store]) if @segments[seg[:store]].equal?(seg)
        end

        # The same error class, with a message naming the file and the action.
        def write_fault(error, action, path, outcome = "nothing of it was kept")
          detail = "#{action} #{path}; #{outcome}"
          error.is_a?(SystemCallError) ? error.class.new(detail) : error.class.new("#{error.message} (#{detail})")
        end
      end
    end
  end
end
