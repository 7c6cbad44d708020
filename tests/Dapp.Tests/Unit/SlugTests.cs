using Dapp.Config;

namespace Dapp.Tests.Unit;

public class SlugTests
{
    [Theory]
    [InlineData("a-b-c-d", "a-b-c-d")]
    [InlineData("a_b_c_d", "a-b-c-d-9736323a")]
    [InlineData("a_B_c_d", "a-b-c-d-a67096ae")]
    [InlineData("_a_b_c_d", "a-b-c-d-72075ca4")]
    [InlineData("а_б_ц_д", "a-b-c-d-fce8fc50")]
    [InlineData("------", "587c09c4")]
    public void Slug_vectors_from_dapp(string input, string expected) => Assert.Equal(expected, Slug.Make(input));

    [Theory]
    [InlineData("a_b_c_d")]
    [InlineData("Feature/ABC-12")]
    [InlineData("------")]
    [InlineData("а_б_ц_д")]
    public void Slug_is_idempotent(string input) => Assert.Equal(Slug.Make(input), Slug.Make(Slug.Make(input)));

    [Fact]
    public void Murmur3_matches_the_reference_vectors()
    {
        Assert.Equal(0u, Murmur3.Hash32([]));
        Assert.Equal(0x514E28B7u, Murmur3.Hash32([], 1));
        Assert.Equal(0xBA6BD213u, Murmur3.Hash32("test"u8));
        Assert.Equal(0xFAF6CDB3u, Murmur3.Hash32("Hello, world!"u8, 1234));
    }
}
