namespace Dapp.Engine;

/// <summary>Engine list filters in the shape the API wants.</summary>
internal static class Filters
{
    public static IDictionary<string, IDictionary<string, bool>> Of(string key, string value) =>
        new Dictionary<string, IDictionary<string, bool>> { [key] = new Dictionary<string, bool> { [value] = true } };

    public static IDictionary<string, IDictionary<string, bool>> Labels(params string[] labels) =>
        new Dictionary<string, IDictionary<string, bool>> { ["label"] = labels.ToDictionary(l => l, _ => true) };
}
