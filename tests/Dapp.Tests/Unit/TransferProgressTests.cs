using Dapp.Engine;
using Dapp.Reporting;
using Docker.DotNet.Models;

namespace Dapp.Tests.Unit;

public class TransferProgressTests
{
    private static JSONMessage Message(string id, string status, long? current = null, long? total = null) =>
        new() { ID = id, Status = status, Progress = current is null ? null! : new JSONProgress { Current = current, Total = total } };

    [Fact]
    public void Layer_progress_sums_downloading_layers_and_completes_them()
    {
        var layers = new LayerProgress();
        Assert.False(layers.Add(Message("a", "Pulling fs layer")));
        Assert.False(layers.Add(Message("base", "Already exists")));
        Assert.True(layers.Add(Message("a", "Downloading", 100, 1000)));
        Assert.True(layers.Add(Message("b", "Downloading", 50, 500)));
        Assert.Equal((150L, 1500L), layers.Totals);
        Assert.True(layers.Add(Message("a", "Download complete")));
        Assert.Equal((1050L, 1500L), layers.Totals);
        Assert.False(layers.Add(Message("a", "Extracting", 10, 2000)));
        Assert.True(layers.Add(Message("b", "Pull complete")));
        Assert.Equal((1500L, 1500L), layers.Totals);
        Assert.False(layers.Add(new JSONMessage { Status = "Digest: sha256:abc" }));
    }

    [Fact]
    public void Pushes_are_counted_the_same_way()
    {
        var layers = new LayerProgress();
        layers.Add(Message("x", "Pushing", 2048, 4096));
        layers.Add(Message("y", "Layer already exists"));
        Assert.Equal((2048L, 4096L), layers.Totals);
        layers.Add(Message("x", "Pushed"));
        Assert.Equal((4096L, 4096L), layers.Totals);
    }

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1536, "1.5 KiB")]
    [InlineData(60_000_000, "57.2 MiB")]
    [InlineData(3L << 30, "3.00 GiB")]
    public void Byte_counts_are_readable(long bytes, string expected) => Assert.Equal(expected, TransferTotals.Format(bytes));

    [Fact]
    public void Plain_progress_line_counts_images_and_bytes()
    {
        var lines = new List<string>();
        using var display = new Dapp.Cli.PlainTransferDisplay(lines.Add, "pull", 3, TimeSpan.FromHours(1));
        display.Update("a", 1 << 20, 2 << 20);
        display.Update("b", 3 << 20, 3 << 20);
        display.Finished("b");
        Assert.StartsWith("pull: 1 of 3 images done, 4.0 MiB of 5.0 MiB, ", display.Line());
    }
}
