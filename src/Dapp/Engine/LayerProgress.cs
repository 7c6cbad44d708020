using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// Sums the engine's per-layer progress messages of one pull or push into bytes done and bytes known so far
/// (compressed bytes: what crosses the network). Layers the engine already had count for nothing.
/// </summary>
public sealed class LayerProgress
{
    private readonly Dictionary<string, (long Done, long Total)> _layers = new();
    private readonly Lock _lock = new();

    public (long Done, long Total) Totals
    {
        get
        {
            lock (_lock) return (_layers.Values.Sum(l => l.Done), _layers.Values.Sum(l => l.Total));
        }
    }

    /// <summary>Takes one message; true when the totals changed.</summary>
    public bool Add(JSONMessage message)
    {
        if (string.IsNullOrEmpty(message.ID) || message.Status is null) return false;
        lock (_lock)
        {
            var known = _layers.GetValueOrDefault(message.ID);
            switch (message.Status)
            {
                case "Downloading" or "Pushing" when message.Progress is { Total: > 0 } p:
                    _layers[message.ID] = (Math.Min(p.Current ?? 0, p.Total ?? 0), p.Total ?? 0);
                    return true;
                case "Download complete" or "Pushed" or "Pull complete" when known.Total > 0:
                    _layers[message.ID] = (known.Total, known.Total);
                    return true;
                default:
                    return false;
            }
        }
    }
}
