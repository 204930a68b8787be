# frozen_string_literal: true

module LedgerSpec
  # Helpers for the segmented backend specs (spec 03).
  module Segmented
    def backend_class
      Igniter::Store::SegmentedFileBackend
    end

    def open_backend(dir, **opts)
      backend_class.new(dir, **opts)
    end

    def reading(key = "k", store: :readings, value: { x: 1 }, **opts)
      Igniter::Store::Fact.build(store: store, key: key, value: value, **opts)
    end

    def write_n(backend, count, store: :readings, prefix: "k", value: { x: 1 })
      count.times { |i| backend.write_fact(reading("#{prefix}#{i}", store: store, value: value)) }
    end

    # Crash form 1: close one store's raw segment IO, keep the instance alive.
    # Crash form 2 (no store): close every IO and forget the live segments.
    def crash(backend, store = nil)
      segments = backend.instance_variable_get(:@segments)
      if store
        segments[store][:file].close
      else
        segments.each_value { |seg| seg[:file].close rescue nil } # rubocop:disable Style/RescueModifier
        segments.clear
      end
    end

    def segment_files(dir, store = "*")
      Dir.glob(File.join(dir, "wal", "store=#{store}", "date=*", "segment-*.wal")).sort
    end

    def manifests(dir, store = "*")
      Dir.glob(File.join(dir, "wal", "store=#{store}", "date=*", "*.manifest.json")).sort
    end

    def today
      Time.now.utc.strftime("%Y-%m-%d")
    end

    # Rewrites a sealed manifest's timestamps (what the 0.5.2 specs do between runs).
    def backdate(manifest_path, seconds)
      doc = JSON.parse(File.read(manifest_path))
      t = realtime - seconds
      doc["max_timestamp"] = t
      doc["min_timestamp"] = t - 1
      File.write(manifest_path, JSON.generate(doc))
    end
  end
end
