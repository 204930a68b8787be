# frozen_string_literal: true

module LedgerSpec
  # Helpers for the segmented backend specs (spec 03).
  module Segmented
    def self.included(group)
      group.after { close_opened_backends }
    end

    def backend_class
      Igniter::Store::SegmentedFileBackend
    end

    # Backends hold the ledger lock until closed; the ones an example leaves
    # open are closed after it.
    def open_backend(dir, **opts)
      backend_class.new(dir, **opts).tap { |b| (@opened_backends ||= []) << b }
    end

    # Opens a backend, yields it and closes it again (one writer at a time).
    # @return the block's value
    def with_backend(dir, **opts)
      backend = open_backend(dir, **opts)
      yield backend
    ensure
      backend&.close
    end

    # @return [Array<Fact>] the replay of a fresh backend on +dir+ (closed again)
    def replayed(dir, **opts)
      with_backend(dir, **opts, &:replay)
    end

    def close_opened_backends
      (@opened_backends || []).each { |b| b.close rescue nil } # rubocop:disable Style/RescueModifier
    end

    def reading(key = "k", store: :readings, value: { x: 1 }, **opts)
      Igniter::Store::Fact.build(store: store, key: key, value: value, **opts)
    end

    def write_n(backend, count, store: :readings, prefix: "k", value: { x: 1 })
      count.times { |i| backend.write_fact(reading("#{prefix}#{i}", store: store, value: value)) }
    end

    # Crash form 1: close one store's raw segment IO, keep the instance alive.
    # Crash form 2 (no store): close every IO and forget the live segments.
    # Both also drop the ledger lock, as the kernel does when a process dies,
    # so that a second backend can open the directory in this process.
    def crash(backend, store = nil)
      segments = backend.instance_variable_get(:@segments)
      if store
        segments[store][:file].close
      else
        segments.each_value { |seg| seg[:file].close rescue nil } # rubocop:disable Style/RescueModifier
        segments.clear
      end
      backend.instance_variable_get(:@lock).release
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
