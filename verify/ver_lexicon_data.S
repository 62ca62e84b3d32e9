/* ver_lexicon_data.S - links the lexicon image that tools/ver_lexgen.c made from WordNet
 * (VER_LEXICON_FILE, set by the Makefile) into the program as read-only data. */
    .section .rodata
    .balign 64
    .global ver_lexicon_data
    .global ver_lexicon_end
ver_lexicon_data:
    .incbin VER_LEXICON_FILE
ver_lexicon_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
