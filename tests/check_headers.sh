#!/bin/sh
# check_headers.sh - header comments that name functions which do not exist (make lint runs it).
# Every identifier written as `name()` in a comment of */*.h or */*/*.h must be defined, declared,
# called or #defined in the code (comments and strings left out) of some C or C++ file of the
# tree (a name called inside a string literal counts too: SQL functions such as FTS5's bm25()),
# or declared in a system header under /usr/include (libcurl, SQLite, libc ...). Prints
# "FILE:LINE: name() is not defined anywhere" for each one that is not, and exits 1 when there
# were any. Run from anywhere: it checks the tree it lives in.
set -eu
cd "$(dirname "$0")/.."
exec perl -e '
use strict;
use warnings;

# The text of a C/C++ file with comments and string/char literals blanked (newlines kept, so the
# line numbers stay), the comments alone, and the string literals.
sub split_code {
    my ($text) = @_;
    my ($code, $comm, $str) = ("", "", "");
    my $n = length $text;
    my $i = 0;
    while ($i < $n) {
        my $c = substr($text, $i, 1);
        my $two = substr($text, $i, 2);
        if ($two eq "/*") {
            my $e = index($text, "*/", $i + 2);
            $e = $n - 2 if $e < 0;
            my $body = substr($text, $i, $e + 2 - $i);
            $comm .= $body;
            (my $blank = $body) =~ s/[^\n]/ /g;
            $code .= $blank;
            $i = $e + 2;
        } elsif ($two eq "//") {
            my $e = index($text, "\n", $i);
            $e = $n if $e < 0;
            my $body = substr($text, $i, $e - $i);
            $comm .= $body . "\n";
            $code .= " " x length $body;
            $i = $e;
        } elsif ($c eq "\"" || $c eq "\x27") {
            my $j = $i + 1;
            while ($j < $n && substr($text, $j, 1) ne $c && substr($text, $j, 1) ne "\n") {
                $j++ if substr($text, $j, 1) eq "\\";
                $j++;
            }
            $str .= substr($text, $i, $j + 1 - $i) . "\n";
            $code .= " " x ($j + 1 - $i);
            $i = $j + 1;
        } else {
            $code .= $c;
            $comm .= $c eq "\n" ? "\n" : " ";
            $i++;
        }
    }
    return ($code, $comm, $str);
}

my @files = split /\n/, `find . -path ./build\\* -prune -o -path ./node_modules -prune -o \\( -name "*.c" -o -name "*.h" -o -name "*.cpp" \\) -type f -print | sort`;
my (%known, %comm);
for my $f (@files) {
    open my $fh, "<", $f or die "$f: $!";
    local $/;
    my $text = <$fh>;
    close $fh;
    my ($code, $comm, $str) = split_code($text);
    $known{$1} = 1 while $code =~ /\b([A-Za-z_]\w*)\s*\(/g;
    $known{$1} = 1 while $str =~ /\b([A-Za-z_]\w*)\(/g;
    $known{$1} = 1 while $code =~ /^\s*#\s*define\s+([A-Za-z_]\w*)/mg;
    $comm{$f} = $comm if $f =~ m{^\./[^/]+/(?:[^/]+/)?[^/]+\.h$};
}

my (%sys, @bad);
for my $f (sort keys %comm) {
    my $line = 0;
    for my $l (split /\n/, $comm{$f}, -1) {
        $line++;
        while ($l =~ /\b([A-Za-z_]\w*)\(\)/g) {
            my $name = $1;
            next if $known{$name};
            $sys{$name} //= system("grep", "-rqE", "--include=*.h", "(^|[^A-Za-z0-9_])$name *\\(",
                                   "/usr/include") == 0;
            next if $sys{$name};
            (my $p = $f) =~ s{^\./}{};
            push @bad, "$p:$line: $name() is not defined anywhere";
        }
    }
}
print "$_\n" for @bad;
print scalar(@bad) . " header comment(s) name functions that do not exist\n" if @bad;
exit(@bad ? 1 : 0);
'
