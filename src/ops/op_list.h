/* op_list.h - the one list of ops. Each entry is X(NAME, code, name): the
 * op code VAE_OP_NAME (stored in model files, so fixed forever; codes run
 * 1, 2, ... in this order) and the implementation vae_op_name, defined in
 * src/ops/. The enum of codes (node.h), the declarations (ops.h) and the
 * table (op_table.c) are generated from it: adding an op is a line here
 * and its own file (CONTRIBUTING.md). */
#ifndef VAE_OP_LIST_H
#define VAE_OP_LIST_H

#define VAE_OP_LIST(X)                                                     \
    X(INPUT, 1, input)                                                     \
    X(DENSE, 2, dense)                                                     \
    X(RELU, 3, relu)                                                       \
    X(LEAKY_RELU, 4, leaky_relu)                                           \
    X(TANH, 5, tanh)                                                       \
    X(SIGMOID, 6, sigmoid)                                                 \
    X(SOFTPLUS, 7, softplus)                                               \
    X(IDENTITY, 8, identity)                                               \
    X(CONV2D, 9, conv2d)                                                   \
    X(CONV2D_TRANSPOSE, 10, conv2d_transpose)                              \
    X(RESHAPE, 11, reshape)                                                \
    X(DATA, 12, data)                                                      \
    X(EMBEDDING, 13, embedding)                                            \
    X(LSTM, 14, lstm)                                                      \
    X(REPEAT, 15, repeat)                                                  \
    X(CONCAT, 16, concat)                                                  \
    X(SHIFT_RIGHT, 17, shift_right)                                        \
    X(TOKEN_DROPOUT, 18, token_dropout)                                    \
    X(TRANSPOSE, 19, transpose)                                            \
    X(BATCH_NORM, 20, batch_norm)                                          \
    X(GAUSSIAN, 21, gaussian)                                              \
    X(BAG_OF_WORDS, 22, bag_of_words)                                      \
    X(CONDITION, 23, condition)

#endif
