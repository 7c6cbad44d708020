namespace Dapp.Engine;

/// <summary>Engine list filters in the shape the API wants.</summary>
internal static class Filters
{
    public static IDictionary<string, IDictionary<string, bool>> Of(string key, string value) =>
        new Dictionary<string, IDictionary<string, bool>> { [key] = new Dictionary<string, bool> { [value] = true } };

    public static IDictionary<string, IDictionary<string, bool>> Labels(params string[] labels) =>
        new Dictionary<string, IDictionary<string, bool>> { ["label"] = labels.ToDictionary(l => l, _ => true) };

    /// <summary>
    /// Whether an object's labels satisfy every <c>label</c> filter (<c>KEY</c> or <c>KEY=VALUE</c>), as Docker reads
    /// several of them. Podman's compat API takes any one of them (measured with 4.3.1: <c>dapp=P</c> and
    /// <c>dapp-dimg=true</c> listed every stage of P), so its answers are filtered again.
    /// </summary>
    public static bool MatchesLabels(IDictionary<string, IDictionary<string, bool>> filters, IDictionary<string, string>? labels)
    {
        if (!filters.TryGetValue("label", out var wanted)) return true;
        foreach (var (filter, on) in wanted)
        {
            if (!on) continue;
            var eq = filter.IndexOf('=');
            var matches = eq < 0
                ? labels?.ContainsKey(filter) == true
                : labels is not null && labels.TryGetValue(filter[..eq], out var value) && value == filter[(eq + 1)..];
            if (!matches) return false;
        }
        return true;
    }
}
