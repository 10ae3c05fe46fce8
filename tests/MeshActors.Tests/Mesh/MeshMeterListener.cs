using System.Diagnostics.Metrics;

namespace MeshActors.Tests.Mesh;

/// <summary>Reads every MeshActors instrument on demand: (node id, instrument, direction or null) to its value.</summary>
internal sealed class MeshMeterListener : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<(string Node, string Instrument, string? Direction), long> _measured = [];

    public MeshMeterListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "MeshActors")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public Dictionary<(string Node, string Instrument, string? Direction), long> Collect()
    {
        lock (_measured)
            _measured.Clear();
        _listener.RecordObservableInstruments();
        lock (_measured)
            return new(_measured);
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? node = null, direction = null;
        foreach (var (key, tag) in tags)
        {
            if (key == "meshactors.node.id")
                node = (string?)tag;
            else if (key == "network.io.direction")
                direction = (string?)tag;
        }

        lock (_measured)
            _measured[(node!, instrument.Name, direction)] = value;
    }
}
