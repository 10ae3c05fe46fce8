using System.Text;
using System.Text.Json;
using MeshActors.Discovery;
using MeshActors.Discovery.Redis;

namespace MeshActors.Tests.Discovery;

/// <summary>
/// Whatever another process left in Redis or the local directory, or published on the events channel, the registry
/// codec reads a member or says why not (<see cref="RegistrationCodec.TryDecode"/>), and never throws: a listing
/// skips the bad entry and goes on (docs/discovery.md). What it reads, it writes back and reads again.
/// </summary>
public sealed class RegistrationCodecFuzzSpec
{
    /// <summary>What an input that went wrong was, for the failure message.</summary>
    private const string Wrong = "neither read nor refused with a reason";

    private const int MaxBytes = 64 * 1024;
    private const string Id = "0b6f4a52-3c2e-4d8a-9f61-2a7c9e1d5b30";

    private static readonly MeshMember Full = new MeshMember(Id, "orders", "10.0.0.7", 7001)
    {
        ProtocolVersion = 1,
        Topics = ["prices", "$dict/stock"],
        Services = ["quote"],
        Tags = new Dictionary<string, string> { ["zone"] = "eu-1", ["owner"] = "café" },
        StartedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero),
        Metadata = JsonDocument.Parse("{\"build\":{\"sha\":\"abc\",\"dirty\":false,\"n\":[1,2.5]}}").RootElement,
    };

    // A registration of every shape: the docs/discovery.md example, with a lease and unknown metadata, a Marketrix
    // peer's without metadata, and the announcements that carry them.
    private static readonly byte[][] Registrations =
    [
        Encoding.UTF8.GetBytes($$$"""{"id":"{{{Id}}}","service_name":"orders","host":"10.0.0.7","port":7001,"metadata":{"protocol_version":1,"topics":["prices"],"services":["quote"],"tags":{"zone":"eu-1"},"started_at":"2026-01-02T03:04:05.678Z"}}"""),
        RegistrationCodec.EncodeRegistration(Full, MaxBytes, leaseExpiresAt: new DateTimeOffset(2026, 1, 2, 3, 5, 0, TimeSpan.Zero)),
        Encoding.UTF8.GetBytes($$"""{"id":"{{Id}}","service_name":"python-node","host":"::1","port":65535,"metadata":null}"""),
    ];

    private static readonly byte[][] Announcements = [RedisAnnouncement.Join(Registrations[1]), RedisAnnouncement.Leave(Full)];

    [Fact]
    public async Task Reading_must_refuse_any_mutation_of_a_valid_registration_with_a_reason_and_never_throw()
    {
        await Task.Run(() => Mutations.AssertEach(Mutations.Of(Registrations, seed: 20261204, count: 8_000), ReadRegistration, Wrong)).WithTimeout();
    }

    [Fact]
    public async Task Reading_must_refuse_any_mutation_of_a_valid_announcement_with_a_reason_and_never_throw()
    {
        await Task.Run(() => Mutations.AssertEach(Mutations.Of(Announcements, seed: 20261204, count: 4_000), ReadAnnouncement, Wrong)).WithTimeout();
    }

    [Fact]
    public void Every_seed_must_read()
    {
        Assert.All(Registrations, seed => Assert.Null(ReadRegistration(seed)));
        Assert.All(Announcements, seed => Assert.True(RedisAnnouncement.TryRead(seed, MaxBytes, out _, out _)));
    }

    // Null when the value was read (and reads again once written back) or refused with a reason.
    private static string? ReadRegistration(byte[] value)
    {
        if (!RegistrationCodec.TryDecode(value, MaxBytes, out var member, out var lease, out var error))
            return string.IsNullOrEmpty(error) ? "refused without a reason" : null;

        // The membership compares the member it knows with the one each listing reads.
        if (!RegistrationCodec.TryDecodeEntry(value, MaxBytes, member.Name, member.Id, out var listed, out _, out var entryError) || listed != member)
            return $"read once, but not the same again: {entryError}";

        var written = RegistrationCodec.Encode(member, lease);
        return RegistrationCodec.TryDecode(written, MaxBytes, out var again, out _, out var rewrittenError)
            // Metadata as written is normalized (a date in UTC, a duplicated name once): only what it models must be equal.
            ? again with { Metadata = null } == member with { Metadata = null } ? null : $"read back as another member: {Encoding.UTF8.GetString(written)}"
            : $"read, but written back as {Encoding.UTF8.GetString(written)} it is refused: {rewrittenError}";
    }

    private static string? ReadAnnouncement(byte[] message) =>
        RedisAnnouncement.TryRead(message, MaxBytes, out _, out var error) || !string.IsNullOrEmpty(error) ? null : "refused without a reason";
}
