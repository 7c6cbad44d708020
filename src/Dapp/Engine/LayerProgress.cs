using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// Sums the engine's per-layer progress messages of one pull or push into bytes done and bytes known so far
/// (compressed bytes: what crosses the network). Layers the engine already had count for nothing. It also keeps which
/// layers (by the engine's short id) the engine moved and which it skipped: the engine sends no progress for small
/// layers, so exact byte counts come from the manifest's sizes of the layers moved.
/// </summary>
public sealed class LayerProgress
{
    private readonly Dictionary<string, (long Done, long Total)> _layers = new();
    private readonly HashSet<string> _moved = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Whether the engine moved the layer with this short id (12 hex digits of its digest for pulls, of its diff id for pushes).</summary>
    public bool Moved(string shortId)
    {
        lock (_lock) return _moved.Contains(shortId);
    }

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
                case "Download complete" or "Pushed" or "Pull complete":
                    _moved.Add(message.ID);
                    if (known.Total == 0) return false;
                    _layers[message.ID] = (known.Total, known.Total);
                    return true;
                default:
                    return false;
            }
        }
    }
}
