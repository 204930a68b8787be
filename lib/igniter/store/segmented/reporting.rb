# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # `storage_stats` / `segment_manifest` (doc/format.md "Segments: manifests and reports"), from the manifest
      # index and the live segments; no directory scan per call. The
      # `"recovery"` section lists what recovery found ({RecoveryReport}).
      module Reporting
        # Keys of one segment in `segment_manifest`, in order.
        SEGMENT_KEYS = %w[segment_id codec fact_count byte_size min_timestamp max_timestamp sealed sealed_at].freeze

        private

        def storage_view(store, with_segments)
          names = if store
                    [Layout.store_name!(store)]
                  else
                    (@index.stores | @segments.keys).sort
                  end
          stores = names.to_h { |name| [name, store_view(name, with_segments)] }
          { "schema_version" => self.class::SCHEMA_VERSION, "generated_at" => realtime, "stores" => stores,
            "recovery" => recovery_section(store && names.first) }
        end

        def store_view(name, with_segments)
          sealed = @index.sealed(name).map { |_, doc| doc }
          live = @segments[name]
          entries = sealed.map { |doc| doc.slice(*SEGMENT_KEYS) }
          entries << live_entry(live) if live
          mins = entries.map { |e| e["min_timestamp"] }.grep(Numeric)
          maxes = entries.map { |e| e["max_timestamp"] }.grep(Numeric)
          view = {
            "segment_count" => entries.size,
            "sealed_count" => sealed.size,
            "live_count" => live ? 1 : 0,
            "codecs" => entries.map { |e| e["codec"] }.compact.uniq.sort,
            "byte_size" => entries.sum { |e| e["byte_size"].to_i },
            "fact_count" => entries.sum { |e| e["fact_count"].to_i },
            "min_timestamp" => mins.min,
            "max_timestamp" => maxes.max,
            "purge_receipt_count" => @index.purge_receipt_count(name),
            "quarantine_receipt_count" => @index.quarantine_receipt_count(name)
          }
          view["segments"] = entries if with_segments
          view
        end

        def live_entry(seg)
          {
            "segment_id" => Layout.segment_id(seg[:store], seg[:bucket], seg[:number]),
            "codec" => seg[:codec].name,
            "fact_count" => seg[:count],
            "byte_size" => seg[:bytes],
            "min_timestamp" => seg[:min_ts],
            "max_timestamp" => seg[:max_ts],
            "sealed" => false,
            "sealed_at" => nil
          }
        end
      end
    end
  end
end
